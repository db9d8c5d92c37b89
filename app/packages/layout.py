"""Byte-level layout check: a package zip must be laid out exactly as build_package writes it.

Signatures and hashes cover the contents; this covers the container. Members are stored
(not compressed), so every byte of a package is either payload (hashed), the manifest
(signed, compared with its canonical form) or header bytes rebuilt here and compared one
for one: no byte of the file can change without the package being refused.
"""

from __future__ import annotations

import struct
import zipfile
from typing import BinaryIO

from app.packages.errors import PackageRefused

# The fixed metadata build_package gives every member.
FIXED_TIME = (1980, 1, 1, 0, 0, 0)
_DOS_TIME, _DOS_DATE = 0, (0 << 9) | (1 << 5) | 1
MODE = 0o100644 << 16
UNIX = 3
VERSION = 20
_LOCAL = struct.Struct("<IHHHHHIIIHH")
_CENTRAL = struct.Struct("<IBBBBHHHHIIIHHHHHII")
_END = struct.Struct("<IHHHHIIH")
_MAX_TAIL = 1 << 20


def _name(info: zipfile.ZipInfo) -> bytes:
    # Names were checked to be plain ASCII before this runs.
    return info.orig_filename.encode("ascii", errors="replace")


def local_header(info: zipfile.ZipInfo) -> bytes:
    """The local header build_package writes for ``info``."""
    return _LOCAL.pack(0x04034B50, VERSION, 0, zipfile.ZIP_STORED, _DOS_TIME, _DOS_DATE,
                       info.CRC, info.file_size, info.file_size, len(_name(info)),
                       0) + _name(info)


def central_record(info: zipfile.ZipInfo, offset: int) -> bytes:
    """The central directory record build_package writes for ``info`` at ``offset``."""
    return _CENTRAL.pack(0x02014B50, VERSION, UNIX, VERSION, 0, 0, zipfile.ZIP_STORED,
                         _DOS_TIME, _DOS_DATE, info.CRC, info.file_size, info.file_size,
                         len(_name(info)), 0, 0, 0, 0, MODE, offset) + _name(info)


def _read_exact(fh: BinaryIO, offset: int, size: int) -> bytes:
    fh.seek(offset)
    return fh.read(size)


def check_layout(fh: BinaryIO, zf: zipfile.ZipFile) -> None:
    """Refuse the package unless its headers are byte for byte those build_package writes."""
    infos = zf.infolist()
    offset = 0
    central = []
    for info in infos:
        expected = local_header(info)
        if (info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size
                or _read_exact(fh, offset, len(expected)) != expected):
            raise PackageRefused("format", f"member {info.filename!r}: its header is not the "
                                 "one a package has (time, attributes, flags, sizes or place)")
        central.append(central_record(info, offset))
        offset += len(expected) + info.file_size
    directory = b"".join(central)
    tail = directory + _END.pack(0x06054B50, 0, 0, len(infos), len(infos), len(directory),
                                 offset, 0)
    fh.seek(0, 2)
    if fh.tell() != offset + len(tail) or len(tail) > _MAX_TAIL:
        raise PackageRefused("format", "the zip has bytes outside its members and directory")
    if _read_exact(fh, offset, len(tail)) != tail:
        raise PackageRefused("format", "the zip's central directory is not the one a package "
                             "has (times, attributes, extra fields or comment)")
