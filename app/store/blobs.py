"""Content-addressed blob store: every file named by the SHA-256 of its bytes."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

from app.core import faults
from app.core.errors import IntegrityError, NotFound
from app.store.durable import TEMP_MARK, durable_write, remove_stale_temps

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


class BlobStore:
    """Immutable blobs under ``root/ab/abcdef...``; writing the same bytes twice is free."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path_of(self, digest: str) -> Path:
        """Where the blob named ``digest`` lives (it may not exist)."""
        if not _HEX64.match(digest):
            raise NotFound(f"not a SHA-256 blob name: {digest!r}")
        return self.root / digest[:2] / digest

    def put_bytes(self, data: bytes) -> str:
        """Store ``data``; returns its SHA-256 hex name."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path_of(digest)
        if not target.exists():
            durable_write(target, data)
        return digest

    def put_file(self, source: Path) -> str:
        """Store a copy of the file ``source`` (streamed); returns its SHA-256 hex name."""
        hasher = hashlib.sha256()
        with open(source, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                hasher.update(chunk)
        digest = hasher.hexdigest()
        target = self.path_of(digest)
        if not target.exists():
            durable_write(target, _read_chunks(source))
            if self.hash_file(target) != digest:
                target.unlink()
                raise IntegrityError(f"{source} changed while it was being stored")
        return digest

    def temp_path(self, suffix: str = "") -> Path:
        """A fresh temporary path inside the store, for writers that stream into a blob;
        left-overs of a crash are removed at the next start."""
        return self.root / f"{TEMP_MARK}{uuid.uuid4().hex}{suffix}"

    def adopt(self, temp: Path, existed: set[str] | None = None) -> str:
        """Move a finished temporary file (from :meth:`temp_path`) into the store under its
        SHA-256 name, durably; returns the name. If the blob was already present its name is
        added to ``existed``."""
        digest = self.hash_file(temp)
        target = self.path_of(digest)
        if target.exists():
            temp.unlink()
            if existed is not None:
                existed.add(digest)
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(temp, "rb+") as fh:
            faults.hit("fsync", str(temp))
            os.fsync(fh.fileno())
        faults.hit("rename", str(target))
        os.replace(temp, target)
        return digest

    def open(self, digest: str):
        """Open the blob for reading; raises NotFound if it is missing."""
        path = self.path_of(digest)
        if not path.exists():
            raise NotFound(f"blob {digest} is missing from {self.root}")
        return open(path, "rb")

    def read_bytes(self, digest: str, *, verify: bool = True) -> bytes:
        """The blob's bytes; with ``verify`` the hash is checked first."""
        with self.open(digest) as fh:
            data = fh.read()
        if verify and hashlib.sha256(data).hexdigest() != digest:
            raise IntegrityError(f"blob {digest} does not match its name: the file was altered")
        return data

    def exists(self, digest: str) -> bool:
        """True if the blob is present."""
        return self.path_of(digest).exists()

    def digests(self) -> Iterator[str]:
        """Names of every stored blob."""
        for path in self.root.glob("??/*"):
            if _HEX64.match(path.name):
                yield path.name

    def cleanup(self) -> list[Path]:
        """Remove temp files from interrupted writes (run at start-up)."""
        return remove_stale_temps(self.root)

    @staticmethod
    def hash_file(path: Path) -> str:
        """SHA-256 hex of a file, streamed."""
        hasher = hashlib.sha256()
        for chunk in _read_chunks(path):
            hasher.update(chunk)
        return hasher.hexdigest()


def _read_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        yield from iter(lambda: fh.read(_CHUNK), b"")
