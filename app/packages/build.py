"""Write a package zip: deterministic members, fixed timestamps, manifest last, durably."""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from app.core.errors import Conflict, UsageError
from app.packages.errors import PackageRefused
from app.packages.golden import check_golden
from app.packages.layout import FIXED_TIME, MODE, UNIX
from app.packages.manifest import hash_source, manifest_bytes, validate_body
from app.packages.names import MANIFEST_NAME
from app.store.durable import durable_write

log = logging.getLogger(__name__)

_COPY_CHUNK = 1 << 20


def _info(name: str) -> zipfile.ZipInfo:
    # Fixed metadata: the same inputs give the same bytes, and layout.py can demand them.
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    # Stored, not compressed: every byte of the file is then covered by a hash or by
    # layout.py, and verification never runs a decompressor on untrusted input.
    info.compress_type = zipfile.ZIP_STORED
    info.create_system = UNIX
    info.external_attr = MODE
    return info


def _write_member(zf: zipfile.ZipFile, name: str, source: bytes | Path) -> None:
    info = _info(name)
    if isinstance(source, bytes | bytearray | memoryview):
        zf.writestr(info, bytes(source))
        return
    with open(source, "rb") as src, zf.open(info, "w") as dst:
        while chunk := src.read(_COPY_CHUNK):
            dst.write(chunk)


def zip_bytes(body: Mapping[str, Any], signatures: Sequence[Mapping[str, Any]],
              files: Mapping[str, bytes | Path]) -> bytes:
    """The package as bytes: payload in name order, then ``manifest.json``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(files):
            _write_member(zf, name, files[name])
        zf.writestr(_info(MANIFEST_NAME), manifest_bytes(body, signatures))
    return buf.getvalue()


def build_package(out_path: Path, body: Mapping[str, Any],
                  signatures: Sequence[Mapping[str, Any]],
                  files: Mapping[str, bytes | Path]) -> Path:
    """Write the package to ``out_path`` (temp file, fsync, atomic replace) and return it.

    ``files`` must be exactly the files the body declares, with those hashes and lengths;
    signatures are not checked here (verification does that against a trust store).
    """
    out_path = Path(out_path)
    try:
        validate_body(dict(body))
    except PackageRefused as exc:
        raise UsageError(f"cannot build a package from this manifest: {exc}") from exc
    declared = body["files"]
    if set(files) != set(declared):
        raise UsageError(f"files {sorted(files)} differ from the manifest's {sorted(declared)}")
    for name in sorted(files):
        digest, length = hash_source(files[name])
        if (digest, length) != (declared[name]["sha256"], declared[name]["length"]):
            raise UsageError(f"file {name!r} changed since the manifest was made")
    try:
        check_golden(files, body["output_schema"])
    except PackageRefused as exc:
        raise UsageError(f"cannot build this package: {exc}") from exc
    if out_path.exists():
        raise Conflict(f"{out_path} already exists; a package file is never overwritten")
    # The whole zip is assembled in memory (packages are capped well below RAM) so that
    # the one durable write below is the only thing that touches the target folder.
    data = zip_bytes(body, signatures, files)
    durable_write(out_path, data)
    log.info("package %s written (%d bytes)", out_path.name, len(data))
    return out_path
