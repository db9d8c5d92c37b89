"""The package manifest: building its body, hashing it, and parsing it strictly."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from app.core.canonical import canonical_bytes, sha256_hex
from app.core.errors import UsageError
from app.packages.errors import PackageRefused
from app.packages.golden import check_golden
from app.packages.names import MANIFEST_NAME, REQUIRED_FILES, check_member_name, check_model_name
from app.packages.timefmt import iso_utc, parse_utc

SCHEMA = "plantml-package-v1"
DEFAULT_VALIDITY = timedelta(days=365)
MAX_SIGNATURES = 16
#: Release counters and versions travel in u32 registers (docs/controller-protocol.md) and
#: are read by PLCs as signed 32-bit tags: 2**31 - 1 fits both and SQLite's INTEGER.
MAX_COUNTER = 2**31 - 1
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX32 = re.compile(r"[0-9a-f]{32}")
_REQUIRED = frozenset({
    "schema", "package_id", "model_name", "model_version", "release_counter", "hardware_ids",
    "input_schema", "output_schema", "feature_spec", "dataset_hash", "lineage",
    "library_versions", "files", "created_at", "expires_at"})
_OPTIONAL = frozenset({"rollback_of"})
_CHUNK = 1 << 20


def hash_source(source: bytes | Path) -> tuple[str, int]:
    """SHA-256 hex and length of in-memory bytes or of a file (streamed)."""
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        return sha256_hex(data), len(data)
    digest, length = hashlib.sha256(), 0
    with open(source, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            length += len(chunk)
    return digest.hexdigest(), length


def body_sha256(body: Mapping[str, Any]) -> str:
    """SHA-256 of the body's canonical JSON: what every signature binds."""
    return sha256_hex(canonical_bytes(body))


def make_body(*, model_name: str, model_version: int, release_counter: int,
              hardware_ids: Sequence[str], input_schema: Sequence[Mapping[str, Any]],
              output_schema: Sequence[Mapping[str, Any]], feature_spec: Mapping[str, Any],
              dataset_hash: str, lineage: Mapping[str, Any],
              library_versions: Mapping[str, Any], files: Mapping[str, bytes | Path],
              created_at: datetime, expires_in: timedelta = DEFAULT_VALIDITY,
              expires_at: datetime | None = None, rollback_of: int | None = None,
              package_id: str | None = None) -> dict[str, Any]:
    """The manifest body for ``files`` (name -> bytes or path), hashes and lengths computed.

    Raises UsageError if an argument would make a body that verification refuses.
    """
    declared = {}
    for name in sorted(files):
        digest, length = hash_source(files[name])
        declared[name] = {"sha256": digest, "length": length}
    body: dict[str, Any] = {
        "schema": SCHEMA, "package_id": package_id or uuid.uuid4().hex,
        "model_name": model_name, "model_version": model_version,
        "release_counter": release_counter, "hardware_ids": list(hardware_ids),
        "input_schema": [dict(x) for x in input_schema],
        "output_schema": [dict(x) for x in output_schema],
        "feature_spec": dict(feature_spec), "dataset_hash": dataset_hash,
        "lineage": dict(lineage), "library_versions": dict(library_versions),
        "files": declared, "created_at": iso_utc(created_at),
        "expires_at": iso_utc(expires_at if expires_at is not None else created_at + expires_in),
    }
    if rollback_of is not None:
        body["rollback_of"] = rollback_of
    try:
        # Round-trip through JSON so the body holds exactly what a reader will see.
        body = json.loads(canonical_bytes(body))
        validate_body(body)
        check_golden(files, body["output_schema"])
    except (PackageRefused, TypeError, ValueError) as exc:
        raise UsageError(f"cannot build the package manifest: {exc}") from exc
    return body


def _positive_int(body: Mapping[str, Any], field: str) -> int:
    value = body.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_COUNTER:
        shown = value if not isinstance(value, int) or value.bit_length() < 80 else "huge"
        raise PackageRefused("manifest", f"{field} must be a whole number from 1 to at most "
                             f"{MAX_COUNTER}, not {shown!r}")
    return value


def _check_schema_list(value: object, field: str) -> None:
    if not isinstance(value, list) or not value:
        raise PackageRefused("manifest", f"{field} must be a non-empty list")
    for i, entry in enumerate(value):
        ok = (isinstance(entry, dict) and isinstance(entry.get("name"), str)
              and isinstance(entry.get("dtype"), str) and isinstance(entry.get("shape"), list)
              and all(d is None or isinstance(d, str | int) and not isinstance(d, bool)
                      for d in entry["shape"]))
        if not ok:
            raise PackageRefused("manifest", f"{field}[{i}] needs name, dtype and shape")


def _check_files(files: object) -> None:
    if not isinstance(files, dict) or not files:
        raise PackageRefused("manifest", "files must be a non-empty object")
    folded: set[str] = set()
    for name, entry in files.items():
        check_member_name(name)
        if name == MANIFEST_NAME:
            raise PackageRefused("manifest", f"{MANIFEST_NAME} cannot be a payload file")
        # Two names that differ only by case would overwrite each other on Windows.
        if name.lower() in folded:
            raise PackageRefused("path", f"file {name!r} differs from another only by case")
        folded.add(name.lower())
        length = entry.get("length") if isinstance(entry, dict) else None
        if (not isinstance(entry, dict) or set(entry) != {"sha256", "length"}
                or not isinstance(entry["sha256"], str) or not _HEX64.fullmatch(entry["sha256"])
                or not isinstance(length, int) or isinstance(length, bool) or length < 0):
            raise PackageRefused("manifest", f"file {name!r}: needs sha256 (hex) and length")
    for name in REQUIRED_FILES:
        if name not in files:
            raise PackageRefused("manifest", f"the package declares no {name}")


def validate_body(body: object) -> dict[str, Any]:
    """Check every field of a manifest body; raise PackageRefused('manifest') naming the field."""
    if not isinstance(body, dict):
        raise PackageRefused("manifest", "the manifest body is not an object")
    missing, extra = _REQUIRED - set(body), set(body) - _REQUIRED - _OPTIONAL
    if missing or extra:
        raise PackageRefused("manifest", f"manifest body: missing {sorted(missing)}, "
                             f"unexpected {sorted(extra)}")
    if body["schema"] != SCHEMA:
        raise PackageRefused("manifest", f"schema {body['schema']!r} is not {SCHEMA!r}")
    if not isinstance(body["package_id"], str) or not _HEX32.fullmatch(body["package_id"]):
        raise PackageRefused("manifest", "package_id is not a 32-digit hex uuid")
    check_model_name(body["model_name"])
    _positive_int(body, "model_version")
    _positive_int(body, "release_counter")
    if body.get("rollback_of") is not None:
        _positive_int(body, "rollback_of")
    hw = body["hardware_ids"]
    if (not isinstance(hw, list) or not hw or len(set(map(str, hw))) != len(hw)
            or not all(isinstance(h, str) and h.strip() and "*" not in h for h in hw)):
        raise PackageRefused("manifest", "hardware_ids must list distinct, explicit ids "
                             "(no wildcard '*')")
    _check_schema_list(body["input_schema"], "input_schema")
    _check_schema_list(body["output_schema"], "output_schema")
    for field in ("feature_spec", "lineage", "library_versions"):
        if not isinstance(body[field], dict):
            raise PackageRefused("manifest", f"{field} must be an object")
    if not isinstance(body["dataset_hash"], str) or not _HEX64.fullmatch(body["dataset_hash"]):
        raise PackageRefused("manifest", "dataset_hash is not a SHA-256 hex digest")
    _check_files(body["files"])
    if parse_utc(body["expires_at"], "expires_at") <= parse_utc(body["created_at"], "created_at"):
        raise PackageRefused("manifest", "expires_at is not after created_at")
    return body


def manifest_bytes(body: Mapping[str, Any], signatures: Sequence[Mapping[str, Any]]) -> bytes:
    """The ``manifest.json`` member: readable JSON; signatures rest on the canonical body."""
    doc = {"body": body, "signatures": list(signatures)}
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False,
                      allow_nan=False).encode("utf-8") + b"\n"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A duplicated key would let two readers see two different manifests.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    # 1e400 parses as inf, which canonical JSON cannot encode: refuse it here, by name.
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"{text} is out of range")
    return value


def parse_manifest(raw: bytes) -> tuple[dict[str, Any], list[Any]]:
    """Parse ``manifest.json`` strictly: UTF-8, no duplicate keys, no NaN, the exact shape.

    Returns (body, signatures); the signatures are checked by the signatures module.
    """
    try:
        doc = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates,
                         parse_constant=_no_constant, parse_float=_finite_float)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PackageRefused("manifest", f"{MANIFEST_NAME} is not strict JSON: {exc}") from exc
    if not isinstance(doc, dict) or set(doc) != {"body", "signatures"}:
        raise PackageRefused("manifest", f"{MANIFEST_NAME} must hold exactly body and "
                             "signatures")
    sigs = doc["signatures"]
    if not isinstance(sigs, list) or len(sigs) > MAX_SIGNATURES:
        raise PackageRefused("manifest", f"signatures must be a list of at most "
                             f"{MAX_SIGNATURES}")
    return validate_body(doc["body"]), sigs
