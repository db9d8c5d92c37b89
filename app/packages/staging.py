"""Unpack a verified package into a fresh private staging folder, re-checking every byte."""

from __future__ import annotations

import logging
import shutil
import zipfile
from pathlib import Path

from app.core.errors import Conflict, StorageError
from app.packages import layout, onnxcheck, zipsafe
from app.packages.errors import PackageRefused
from app.packages.manifest import body_sha256, parse_manifest
from app.packages.names import MANIFEST_NAME, check_member_name
from app.packages.verify import MODEL_NAME, VerifiedPackage
from app.store.durable import durable_write

log = logging.getLogger(__name__)


def _target(staging: Path, name: str) -> Path:
    check_member_name(name)
    target = staging / name
    # Belt and braces: a flat, checked name can only land directly inside the folder.
    if target.resolve().parent != staging.resolve():
        raise PackageRefused("path", f"member {name!r} would be written outside staging")
    return target


def _unpack(package: VerifiedPackage, staging: Path) -> dict[str, Path]:
    limits = package.limits
    with zipsafe.open_package_file(package.path, limits) as fh:
        zf = zipfile.ZipFile(fh)
        entries = zipsafe.check_central_directory(zf, limits)
        layout.check_layout(fh, zf)
        raw = zipsafe.read_manifest_member(zf, entries[MANIFEST_NAME], limits)
        body, _ = parse_manifest(raw)
        # The file may have changed since it was verified (a stick is not ours): the
        # manifest must be the verified one, and every payload is hashed again on the way.
        if body_sha256(body) != package.body_sha256:
            raise PackageRefused("hash", f"{MANIFEST_NAME} changed since verification")
        if set(entries) - {MANIFEST_NAME} != set(package.files):
            raise PackageRefused("file_set", "the package files changed since verification")
        written = {}
        for name in sorted(package.files):
            target = _target(staging, name)
            durable_write(target, zipsafe.payload_chunks(zf, entries[name], package.files[name]))
            written[name] = target
        written[MANIFEST_NAME] = _target(staging, MANIFEST_NAME)
        durable_write(written[MANIFEST_NAME], raw)
    if MODEL_NAME in written:
        onnxcheck.check_onnx_file(written[MODEL_NAME])
    return written


def unpack_to_staging(package: VerifiedPackage, staging_dir: Path) -> dict[str, Path]:
    """Write the package's files (and its manifest) into ``staging_dir``, created fresh.

    Returns name -> path. On any failure the staging folder is removed again, so nothing
    of a refused package stays on disk; nothing is ever written outside the folder.
    """
    staging = Path(staging_dir)
    if staging.exists():
        raise Conflict(f"the staging folder {staging} already exists; it must be fresh")
    staging.parent.mkdir(parents=True, exist_ok=True)
    staging.mkdir(mode=0o700)
    try:
        written = _unpack(package, staging)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, zipsafe.ZIP_ERRORS):
            raise PackageRefused("format", f"{package.path.name} became unreadable: "
                                 f"{exc}") from exc
        if isinstance(exc, OSError):
            raise StorageError(f"could not unpack {package.path.name} into {staging}: "
                               f"{exc}") from exc
        raise
    log.info("package %s unpacked into %s", package.package_id, staging)
    return written
