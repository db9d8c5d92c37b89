"""The one durable-write helper: temp file in the same folder, flush, fsync, atomic replace."""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from app.core import faults

log = logging.getLogger(__name__)

TEMP_MARK = ".plantml-tmp-"


def _fsync_dir(folder: Path) -> None:
    # A rename is only durable once the directory entry is; Windows cannot open folders
    # this way and makes renames durable by itself (MoveFileEx with write-through).
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def durable_write(path: Path, chunks: bytes | Iterable[bytes], *, mode: int = 0o666) -> int:
    """Write ``chunks`` to ``path`` so that afterwards it holds either all of them or its
    previous content, even if the process dies or the power fails. Returns bytes written.

    ``mode`` is the permission the new file is created with (before the umask), so a
    secret written with 0o600 is never readable by others, not even for a moment.
    Raises OSError on failure, after removing the temporary file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{TEMP_MARK}{path.name}.{uuid.uuid4().hex}")
    if isinstance(chunks, bytes | bytearray | memoryview):
        chunks = (bytes(chunks),)
    written = 0
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     mode)
        with os.fdopen(fd, "wb") as fh:
            for chunk in chunks:
                faults.hit("write", str(path))
                fh.write(chunk)
                written += len(chunk)
            fh.flush()
            faults.hit("fsync", str(path))
            os.fsync(fh.fileno())
        faults.hit("rename", str(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    _fsync_dir(path.parent)
    return written


def remove_stale_temps(root: Path) -> list[Path]:
    """Delete temp files a crashed :func:`durable_write` left under ``root``; returns them."""
    removed: list[Path] = []
    if not root.exists():
        return removed
    for tmp in root.rglob(f"{TEMP_MARK}*"):
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    if removed:
        log.warning("removed %d unfinished temporary files under %s", len(removed), root)
    return removed
