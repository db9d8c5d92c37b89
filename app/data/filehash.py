"""SHA-256 of a source file, computed beside the import on the other core."""

from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from app.core.progress import CancelToken

CHUNK = 1 << 20


@dataclass(frozen=True)
class FileDigest:
    """Hex SHA-256 and size of a file."""

    sha256: str
    size: int


def digest_file(path: Path, *cancel: CancelToken) -> FileDigest:
    """Hash ``path``; raises Cancelled when a token is set."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            for token in cancel:
                token.raise_if_cancelled()
            digest.update(chunk)  # releases the GIL for large chunks
            size += len(chunk)
    return FileDigest(digest.hexdigest(), size)


def sha256_file(path: Path, *cancel: CancelToken) -> str:
    """Hex SHA-256 of ``path``."""
    return digest_file(path, *cancel).sha256


class BackgroundDigest:
    """Digest ``path`` in one worker thread; :meth:`result` waits for it.

    Use as a context manager so the thread is joined on every exit path; leaving it by an
    exception stops the hashing at its next chunk instead of finishing a multi-GB file.
    """

    def __init__(self, path: Path, cancel: CancelToken) -> None:
        self._stop = CancelToken()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plantml-hash")
        self._future: Future[FileDigest] = self._pool.submit(digest_file, path, cancel,
                                                             self._stop)

    def result(self) -> FileDigest:
        """The digest (waits for it); re-raises what the hashing raised."""
        return self._future.result()

    def __enter__(self) -> BackgroundDigest:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is not None:
            self._stop.cancel()
        self._pool.shutdown(wait=True)
