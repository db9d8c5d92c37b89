"""One transfer into the controller: chunks checked on arrival, then SHA-256 over the whole."""

from __future__ import annotations

import hashlib
import time
import zlib

from app.devices.protocol.codes import ErrorCode


class TransferError(Exception):
    """A chunk or the whole stream was refused; ``code`` and ``chunk`` go to the status block."""

    def __init__(self, code: ErrorCode, text: str, chunk: int | None = None) -> None:
        super().__init__(text)
        self.code, self.text, self.chunk = code, text, chunk


class Transfer:
    """Receives the stream BEGIN announced, chunk by chunk, in order.

    Every chunk's CRC-32 is kept as it arrived, so that when the SHA-256 of the staged
    bytes disagrees with BEGIN's, the first chunk whose stored bytes no longer match
    their digest can be named ("verification failed at chunk k").
    """

    def __init__(self, total: int, package_len: int, sha256: str, chunk_size: int,
                 compressed: bool, clock=time.monotonic) -> None:
        self.total, self.package_len, self.sha256 = total, package_len, sha256
        self.chunk_size, self.compressed = chunk_size, compressed
        self.buf = bytearray(total)
        self.acked = 0
        self.digests: list[int] = []
        self.clock = clock
        self.started_at = self.last_chunk_at = clock()

    @property
    def n_chunks(self) -> int:
        return -(-self.total // self.chunk_size)

    @property
    def complete(self) -> bool:
        return self.acked == self.total

    def _span(self, index: int) -> tuple[int, int]:
        start = index * self.chunk_size
        return start, min(start + self.chunk_size, self.total)

    def accept(self, offset: int, data: bytes, crc: int) -> None:
        """Store one chunk; a repeat of an acknowledged chunk is accepted if it is identical."""
        index, rest = divmod(offset, self.chunk_size)
        if rest or offset > self.acked:
            raise TransferError(ErrorCode.CHUNK_OFFSET, f"chunk at offset {offset}; expected "
                                f"{self.acked}", self.acked // self.chunk_size)
        start, end = self._span(index)
        if offset >= self.total or len(data) != end - start:
            raise TransferError(ErrorCode.CHUNK_LENGTH, f"chunk {index} has {len(data)} bytes;"
                                f" expected {max(0, end - start)}", index)
        if zlib.crc32(data) != crc:
            raise TransferError(ErrorCode.CHUNK_CRC, f"chunk {index} CRC-32 mismatch", index)
        self.last_chunk_at = self.clock()
        if offset < self.acked:
            if self.digests[index] != crc:
                raise TransferError(ErrorCode.CHUNK_CRC, f"chunk {index} resent with other "
                                    "data", index)
            return  # the answer to the first copy was lost; the master sent it again
        self.buf[start:end] = data
        self.digests.append(crc)
        self.acked = end

    def stored_digest(self, index: int) -> int:
        """CRC-32 of chunk ``index`` as stored now (for the master's read-back)."""
        if index >= len(self.digests):
            return 0
        start, end = self._span(index)
        return zlib.crc32(self.buf[start:end])

    def first_bad_chunk(self) -> int | None:
        """The first chunk whose stored bytes differ from what arrived, if any."""
        for index, crc in enumerate(self.digests):
            if self.stored_digest(index) != crc:
                return index
        return None

    def package_bytes(self) -> bytes:
        """The package file: decompressed if need be, SHA-256 checked against BEGIN's."""
        if not self.complete:
            raise TransferError(ErrorCode.BAD_STATE, f"only {self.acked} of {self.total} bytes "
                                "received")
        bad = self.first_bad_chunk()
        if bad is not None:
            raise TransferError(ErrorCode.VERIFY_HASH, f"verification failed at chunk {bad}: "
                                "stored bytes changed", bad)
        data = bytes(self.buf)
        if self.compressed:
            inflater = zlib.decompressobj()
            try:
                data = inflater.decompress(data, self.package_len + 1)
            except zlib.error as exc:
                raise TransferError(ErrorCode.DECOMPRESS, f"zlib stream corrupt: {exc}") from None
            if not inflater.eof or len(data) != self.package_len or inflater.unused_data:
                raise TransferError(ErrorCode.DECOMPRESS, "zlib stream is not the declared "
                                    f"{self.package_len} bytes")
        if len(data) != self.package_len:
            raise TransferError(ErrorCode.VERIFY_HASH, f"package is {len(data)} bytes; BEGIN "
                                f"declared {self.package_len}")
        if hashlib.sha256(data).hexdigest() != self.sha256:
            # Every chunk is stored as it arrived: the master sent other bytes than the
            # hash it declared, so no single chunk can be named.
            raise TransferError(ErrorCode.VERIFY_HASH, "verification failed: SHA-256 differs "
                                f"from BEGIN; all {self.n_chunks} chunks stored as received")
        return data
