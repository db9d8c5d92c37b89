"""Register word packing of the controller protocol: u32, float32, bytes, ASCII, SHA-256 and
the CRC-32 check word (all big-endian; float32 through the shared Modbus codec)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence

import numpy as np

from app.fieldbus.codec import decode, encode


def u32_words(value: int) -> list[int]:
    """High word first, as most Modbus masters read 32-bit integers."""
    value = int(value) & 0xFFFFFFFF
    return [value >> 16, value & 0xFFFF]


def words_u32(words: Sequence[int]) -> int:
    """Inverse of :func:`u32_words`."""
    return (int(words[0]) << 16) | int(words[1])


def f32_words(values: Iterable[float]) -> list[int]:
    """IEEE 754 float32, high word first (big-endian byte and word order)."""
    arr = values if isinstance(values, np.ndarray) else np.asarray(list(values))
    return encode(arr, "float32").astype(np.int64).tolist()


def words_f32(words: Sequence[int]) -> np.ndarray:
    """Inverse of :func:`f32_words` (float64 array)."""
    return decode(np.asarray(words, dtype=np.uint16), "float32")


def bytes_words(data: bytes) -> list[int]:
    """Bytes as big-endian registers; an odd length is padded with one zero byte."""
    if len(data) % 2:
        data = data + b"\x00"
    return np.frombuffer(data, dtype=">u2").astype(np.int64).tolist()


def words_bytes(words: Sequence[int], length: int | None = None) -> bytes:
    """Inverse of :func:`bytes_words`, cut to ``length`` bytes if given."""
    data = np.asarray(words, dtype=">u2").tobytes()
    return data if length is None else data[:length]


def ascii_words(text: str, count: int) -> list[int]:
    """``text`` as ASCII, two characters a register (first in the high byte), NUL-padded.

    Characters outside printable ASCII become '?', so any master can show the registers.
    """
    raw = "".join(c if 32 <= ord(c) < 127 else "?" for c in text).encode("ascii")
    raw = raw[: 2 * count].ljust(2 * count, b"\x00")
    return bytes_words(raw)


def words_ascii(words: Sequence[int]) -> str:
    """Inverse of :func:`ascii_words` (stops at the first NUL)."""
    return words_bytes(words).split(b"\x00", 1)[0].decode("ascii", errors="replace")


def sha_words(digest_hex: str | None) -> list[int]:
    """A SHA-256 (hex) as 16 registers; None gives zeros."""
    raw = bytes.fromhex(digest_hex) if digest_hex else bytes(32)
    return bytes_words(raw)


def words_sha(words: Sequence[int]) -> str | None:
    """Inverse of :func:`sha_words`; all zeros reads as None."""
    raw = words_bytes(words)
    return None if not any(raw) else raw.hex()


def crc32_words(words: Sequence[int]) -> int:
    """CRC-32 (zlib) of registers as big-endian bytes: the check word of pages and commands."""
    return zlib.crc32(words_bytes(words))
