"""Cut a text file into chunks of whole lines (UTF-8 bytes), with bounded memory.

Non-UTF-8 encodings are transcoded on the way, undecodable bytes becoming U+FFFD so the
line that held them can be rejected. A line longer than the cap is skipped and reported.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

CHUNK_BYTES = 1 << 20
UTF8 = ("utf-8", "utf-8-sig")


@dataclass(frozen=True)
class Chunk:
    """Whole lines as UTF-8 bytes: ``buf[begin:end]`` (kept unsliced: no copy), or one
    over-long line (``buf`` is None)."""

    buf: bytes | None
    begin: int = 0
    end: int = 0

    def has(self, byte: bytes) -> bool:
        """True if ``byte`` occurs in the chunk's lines."""
        return self.buf is not None and self.buf.find(byte, self.begin, self.end) >= 0

    def count_lines(self) -> int:
        """Physical lines in the chunk (a last line without newline counts too)."""
        if self.buf is None:
            return 1
        n = self.buf.count(b"\n", self.begin, self.end)
        return n + (self.end > self.begin and self.buf[self.end - 1] != 0x0A)

    def bytes(self) -> bytes:
        """The lines as one bytes object (a copy)."""
        return b"" if self.buf is None else self.buf[self.begin:self.end]


def is_utf8(encoding: str) -> bool:
    """True if the file's bytes can be parsed as they are."""
    return codecs.lookup(encoding).name in UTF8


def _blocks(fh: BinaryIO, encoding: str, size: int) -> Iterator[bytes]:
    if is_utf8(encoding):
        while block := fh.read(size):
            yield block
        return
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    while block := fh.read(size):
        yield decoder.decode(block).encode("utf-8")
    if tail := decoder.decode(b"", final=True):
        yield tail.encode("utf-8")


def chunks(fh: BinaryIO, encoding: str, cap: int, size: int = CHUNK_BYTES) -> Iterator[Chunk]:
    """Yield chunks in file order; the first starts after a UTF-8 byte-order mark, if any."""
    carry = b""
    skipping = False
    first = True
    for raw in _blocks(fh, encoding, max(size, 1)):
        block = raw.removeprefix(codecs.BOM_UTF8) if first else raw
        first = False
        if skipping:
            cut = block.find(b"\n")
            if cut < 0:
                continue
            block, skipping = block[cut + 1:], False
        data = carry + block if carry else block
        cut = data.rfind(b"\n")
        if cut < 0:
            if len(data) > cap:
                yield Chunk(None)
                carry, skipping = b"", True
            else:
                carry = data
            continue
        carry = data[cut + 1:]
        yield Chunk(data, 0, cut + 1)
        if len(carry) > cap:
            yield Chunk(None)
            carry, skipping = b"", True
    if carry:
        yield Chunk(carry, 0, len(carry))
