"""Verify an untrusted package file, signatures before payload, and accept its counter."""

from __future__ import annotations

import hashlib
import logging
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from app.core.clock import Clock
from app.core.errors import UsageError
from app.packages import layout, onnxcheck, zipsafe
from app.packages.errors import PackageRefused
from app.packages.golden import GOLDEN_INPUTS, GOLDEN_OUTPUTS, check_golden
from app.packages.manifest import body_sha256, manifest_bytes, parse_manifest
from app.packages.names import MANIFEST_NAME
from app.packages.signatures import check_signatures
from app.packages.timefmt import parse_utc
from app.packages.trust import TrustStore
from app.packages.zipsafe import Limits

log = logging.getLogger(__name__)
MODEL_NAME = "model.onnx"
#: Payloads read into memory after their hash matched, to be parsed.
_PARSED = (MODEL_NAME, GOLDEN_INPUTS, GOLDEN_OUTPUTS)


@dataclass(frozen=True)
class ExpiryOverride:
    """An approver's decision to accept an expired package; the caller audits it."""

    who: str
    reason: str

    def __post_init__(self) -> None:
        if not self.who.strip() or not self.reason.strip():
            raise UsageError("an expiry override needs who and a reason")


@dataclass(frozen=True)
class VerifiedPackage:
    """A package that passed every check, with what the checks established."""

    path: Path
    body: dict[str, Any]
    signatures: list[dict[str, str]]
    body_sha256: str
    package_sha256: str
    verified_at: datetime
    expired: bool = False
    override: ExpiryOverride | None = None
    hardware_id: str | None = None
    limits: Limits = field(default_factory=Limits)

    @property
    def model_name(self) -> str:
        return self.body["model_name"]

    @property
    def model_version(self) -> int:
        return self.body["model_version"]

    @property
    def release_counter(self) -> int:
        return self.body["release_counter"]

    @property
    def package_id(self) -> str:
        return self.body["package_id"]

    @property
    def rollback_of(self) -> int | None:
        return self.body.get("rollback_of")

    @property
    def files(self) -> dict[str, dict[str, Any]]:
        return self.body["files"]


def _check_expiry(body: dict[str, Any], now: datetime,
                  override: ExpiryOverride | None) -> bool:
    expires = parse_utc(body["expires_at"], "expires_at")
    if now < expires:
        return False
    if override is None:
        raise PackageRefused("expired", f"the package expired at {body['expires_at']}; only an "
                             "approver's override can accept it")
    log.warning("expired package %s accepted by override of %s: %s", body["package_id"],
                override.who, override.reason)
    return True


def _check_counter(body: dict[str, Any], trust: TrustStore) -> None:
    trusted = trust.counter(body["model_name"])
    counter = body["release_counter"]
    if trusted is not None and counter <= trusted:
        kind = "rollback package" if body.get("rollback_of") is not None else "package"
        raise PackageRefused("counter", f"{kind} release counter {counter} of "
                             f"{body['model_name']!r} is not above the accepted {trusted}; "
                             "a rollback must come as a new package with a higher counter")


def _check_file_set(entries: dict[str, zipfile.ZipInfo], body: dict[str, Any]) -> None:
    present = set(entries) - {MANIFEST_NAME}
    declared = set(body["files"])
    extra, missing = sorted(present - declared), sorted(declared - present)
    if extra or missing:
        parts = ([f"not declared: {', '.join(extra)}"] if extra else []) + \
                ([f"missing: {', '.join(missing)}"] if missing else [])
        raise PackageRefused("file_set", "the package files differ from the manifest; "
                             + "; ".join(parts))


def _file_sha256(fh: BinaryIO) -> str:
    fh.seek(0)
    digest = hashlib.sha256()
    while chunk := fh.read(zipsafe.CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _verify_open(fh: BinaryIO, path: Path, trust: TrustStore, now: datetime,
                 hardware_id: str | None, override: ExpiryOverride | None, limits: Limits,
                 enforce_counter: bool, check_model: bool) -> VerifiedPackage:
    zf = zipfile.ZipFile(fh)
    entries = zipsafe.check_central_directory(zf, limits)
    layout.check_layout(fh, zf)
    raw = zipsafe.read_manifest_member(zf, entries[MANIFEST_NAME], limits)
    body, raw_sigs = parse_manifest(raw)
    if raw != manifest_bytes(body, raw_sigs):
        # Same body, other bytes (spacing, key order) would still verify: refuse that too.
        raise PackageRefused("format", f"{MANIFEST_NAME} is not written as a package writes it")
    # Signatures first: nothing below reads a payload byte of an unsigned package.
    signatures = check_signatures(body, raw_sigs, trust)
    expired = _check_expiry(body, now, override)
    if hardware_id is not None and hardware_id not in body["hardware_ids"]:
        raise PackageRefused("hardware", f"the package allows hardware "
                             f"{', '.join(body['hardware_ids'])}, not {hardware_id!r}")
    if enforce_counter:
        _check_counter(body, trust)
    _check_file_set(entries, body)
    kept: dict[str, bytes] = {}
    for name in sorted(body["files"]):
        chunks = zipsafe.payload_chunks(zf, entries[name], body["files"][name])
        if name in _PARSED:
            kept[name] = b"".join(chunks)  # hashed on the way; parsed only once it matched
        else:
            for _ in chunks:
                pass
    check_golden(kept, body["output_schema"])
    if check_model:
        onnxcheck.check_onnx_bytes(kept[MODEL_NAME], MODEL_NAME)
    return VerifiedPackage(path=path, body=body, signatures=signatures,
                           body_sha256=body_sha256(body), package_sha256=_file_sha256(fh),
                           verified_at=now, expired=expired,
                           override=override if expired else None, hardware_id=hardware_id,
                           limits=limits)


def verify_package(path: Path, trust: TrustStore, *, clock: Clock | None = None,
                   hardware_id: str | None = None, override: ExpiryOverride | None = None,
                   limits: Limits | None = None, enforce_counter: bool = True,
                   check_model: bool = True) -> VerifiedPackage:
    """Verify the package at ``path`` against ``trust``; raises PackageRefused on any fault.

    Order: file size, zip directory, manifest, signatures, expiry, hardware id (None for a
    workstation import), release counter, exact file set, each file's length and SHA-256,
    every golden input has its expected output, then the ONNX model has no external
    data. Nothing is written anywhere. The trusted
    counter does not move: call :func:`accept_package` once the caller has done its part.
    """
    path, limits = Path(path), limits or Limits()
    now = (clock or Clock()).now()
    with zipsafe.open_package_file(path, limits) as fh:
        try:
            package = _verify_open(fh, path, trust, now, hardware_id, override, limits,
                                   enforce_counter, check_model)
        except PackageRefused as exc:
            log.warning("package %s refused (%s): %s", path.name, exc.reason_code, exc)
            raise
        except zipsafe.ZIP_ERRORS as exc:
            log.warning("package %s refused: corrupt zip: %s", path.name, exc)
            raise PackageRefused("format", f"{path.name} is not a readable package zip: "
                                 f"{exc}") from exc
        except OSError as exc:
            log.warning("package %s refused: read error: %s", path.name, exc)
            raise PackageRefused("unreadable", f"{path.name} could not be read to the end: "
                                 f"{exc}") from exc
    log.info("package %s verified: %s v%s r%s", path.name, package.model_name,
             package.model_version, package.release_counter)
    return package


def accept_package(trust: TrustStore, package: VerifiedPackage) -> None:
    """Move the trusted counter of the package's model line forward (then save the store)."""
    trust.accept_counter(package.model_name, package.release_counter)
