"""Reading an untrusted zip safely: caps, central-directory sanity, capped streamed members."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from app.packages.errors import PackageRefused
from app.packages.names import MANIFEST_NAME, member_problem

log = logging.getLogger(__name__)

MiB = 1 << 20
CHUNK = MiB
# What zipfile (and zlib under it) raises on a malformed or cut archive.
ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, struct.error, EOFError,
              NotImplementedError, OverflowError, IndexError, KeyError, zlib.error)


@dataclass(frozen=True)
class Limits:
    """Caps applied to an untrusted package before anything in it is trusted."""

    max_package_bytes: int = 512 * MiB
    max_members: int = 32
    max_member_bytes: int = 512 * MiB
    max_total_bytes: int = 1024 * MiB
    max_manifest_bytes: int = 1 * MiB
    max_ratio: float = 100.0
    # Tiny members (a short JSON report) may compress far beyond the ratio harmlessly.
    ratio_floor_bytes: int = 1 * MiB


def require_regular_file(path: Path, what: str = "the package") -> None:
    """Refuse anything but a plain file before it is opened: opening a FIFO (or a device)
    blocks until someone writes to it, which would hang the workstation."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise PackageRefused("unreadable", f"{what} {path} cannot be read: "
                             f"{exc.strerror or exc}") from exc
    if not stat.S_ISREG(info.st_mode):
        raise PackageRefused("format", f"{what} {path} is not a regular file")


def open_package_file(path: Path, limits: Limits) -> BinaryIO:
    """Open ``path`` for reading after checking its size against the cap (on the open handle)."""
    require_regular_file(Path(path))
    try:
        # Non-blocking, so a FIFO swapped in after the check cannot block the open either.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) |
                     getattr(os, "O_BINARY", 0))
        fh = os.fdopen(fd, "rb")
    except OSError as exc:
        raise PackageRefused("unreadable", f"the package {path} cannot be read: {exc}") from exc
    try:
        info = os.fstat(fh.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise PackageRefused("format", f"{path} is not a regular file")
        if info.st_size > limits.max_package_bytes:
            raise PackageRefused("size", f"the package {path.name} is {info.st_size} bytes, "
                                 f"over the cap of {limits.max_package_bytes}")
    except BaseException:
        fh.close()
        raise
    return fh


def _check_entry(info: zipfile.ZipInfo, limits: Limits) -> None:
    name = info.filename
    for candidate in (info.orig_filename, name):
        problem = member_problem(candidate)
        if problem is not None:
            raise PackageRefused("path", f"member {candidate!r} is refused: it contains "
                                 f"{problem}")
    if info.is_dir():
        raise PackageRefused("path", f"member {name!r} is a folder")
    mode = info.external_attr >> 16
    # Unix file-type bits: anything but a plain file (a link above all) is refused.
    if stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a plain file"
        raise PackageRefused("path", f"member {name!r} is {kind}")
    if (info.file_size > limits.ratio_floor_bytes
            and info.file_size > limits.max_ratio * max(info.compress_size, 1)):
        raise PackageRefused("zip_bomb", f"member {name!r} expands {info.compress_size} bytes "
                             f"to {info.file_size}, over the ratio cap of {limits.max_ratio}")
    if info.flag_bits & 0x1:
        raise PackageRefused("format", f"member {name!r} is encrypted")
    if info.compress_type != zipfile.ZIP_STORED:
        # Packages are written stored (see layout.py); nothing is ever decompressed here.
        raise PackageRefused("format", f"member {name!r} is compressed; package members "
                             "are stored")
    if info.file_size > limits.max_member_bytes:
        raise PackageRefused("size", f"member {name!r} declares {info.file_size} bytes, over "
                             f"the cap of {limits.max_member_bytes}")


def check_central_directory(zf: zipfile.ZipFile, limits: Limits) -> dict[str, zipfile.ZipInfo]:
    """Check every entry of the central directory; returns name -> entry, manifest included."""
    infos = zf.infolist()
    if len(infos) > limits.max_members:
        raise PackageRefused("size", f"the package has {len(infos)} members, over the cap of "
                             f"{limits.max_members}")
    entries: dict[str, zipfile.ZipInfo] = {}
    folded: set[str] = set()
    total = 0
    for info in infos:
        _check_entry(info, limits)
        if info.filename in entries or info.filename.lower() in folded:
            raise PackageRefused("path", f"member {info.filename!r} appears twice")
        entries[info.filename] = info
        folded.add(info.filename.lower())
        total += info.file_size
        if total > limits.max_total_bytes:
            raise PackageRefused("size", f"the members expand to more than the cap of "
                                 f"{limits.max_total_bytes} bytes")
    if MANIFEST_NAME not in entries:
        raise PackageRefused("manifest", f"the package has no {MANIFEST_NAME}")
    if infos[-1].filename != MANIFEST_NAME:
        # Packages are written manifest last; anything else was not made by build_package.
        raise PackageRefused("format", f"{MANIFEST_NAME} is not the last member")
    return entries


def _capped_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo, length: int) -> Iterator[bytes]:
    """Chunks of one member, refusing as soon as more than ``length`` bytes come out."""
    name = info.filename
    if info.file_size != length:
        raise PackageRefused("length", f"file {name!r}: the zip holds {info.file_size} bytes, "
                             f"the manifest declares {length}")
    total = 0
    try:
        with zf.open(info) as member:
            while True:
                chunk = member.read(min(CHUNK, length + 1 - total))
                if not chunk:
                    break
                total += len(chunk)
                if total > length:
                    raise PackageRefused("length", f"file {name!r} is longer than the "
                                         f"declared {length} bytes")
                yield chunk
    except ZIP_ERRORS as exc:
        raise PackageRefused("hash", f"file {name!r} is corrupt in the zip: {exc}") from exc
    if total != length:
        raise PackageRefused("length", f"file {name!r} has {total} bytes, the manifest "
                             f"declares {length}")


def read_manifest_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> bytes:
    """The raw manifest, read with its own small cap."""
    if info.file_size > limits.max_manifest_bytes:
        raise PackageRefused("size", f"{MANIFEST_NAME} declares {info.file_size} bytes, over "
                             f"the cap of {limits.max_manifest_bytes}")
    return b"".join(_capped_chunks(zf, info, info.file_size))


def payload_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo,
                   declared: Mapping[str, object]) -> Iterator[bytes]:
    """Chunks of one payload member; after the last one its length and SHA-256 are checked."""
    length = declared["length"]
    assert isinstance(length, int)
    digest = hashlib.sha256()
    for chunk in _capped_chunks(zf, info, length):
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != declared["sha256"]:
        raise PackageRefused("hash", f"file {info.filename!r}: SHA-256 {digest.hexdigest()} "
                             f"differs from the declared {declared['sha256']}")
