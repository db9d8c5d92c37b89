"""Registers to values and back: data type, word order, byte order, scale."""

from __future__ import annotations

import numpy as np

#: type name -> (registers per value, NumPy big-endian dtype); 'bool' is for coils/discretes.
TYPES = {"int16": (1, ">i2"), "uint16": (1, ">u2"), "int32": (2, ">i4"),
         "uint32": (2, ">u4"), "float32": (2, ">f4"), "float64": (4, ">f8"),
         "bool": (1, None)}
ORDERS = ("big", "little")


def _swap_bytes(words: np.ndarray) -> np.ndarray:
    return ((words & 0x00FF) << 8) | (words >> 8)


def decode(regs: np.ndarray, type_name: str, *, word_order: str = "big",
           byte_order: str = "big") -> np.ndarray:
    """Raw values (float64) from uint16 registers holding whole values of ``type_name``.

    'big' word order puts the most significant register first (ABCD); 'little' last (CDAB).
    'little' byte order swaps the two bytes inside each register (BADC / DCBA).
    """
    words, dtype = TYPES[type_name]
    if dtype is None:
        return np.asarray(regs, dtype=np.float64)
    w = np.asarray(regs, dtype=np.uint16).reshape(-1, words)
    if word_order == "little" and words > 1:
        w = w[:, ::-1]
    if byte_order == "little":
        w = _swap_bytes(w)
    return np.frombuffer(np.ascontiguousarray(w).astype(">u2").tobytes(),
                         dtype=dtype).astype(np.float64)


def encode(values: np.ndarray, type_name: str, *, word_order: str = "big",
           byte_order: str = "big") -> np.ndarray:
    """uint16 registers for ``values`` (already raw, unscaled); the inverse of :func:`decode`."""
    words, dtype = TYPES[type_name]
    if dtype is None:
        return np.asarray(values, dtype=bool).astype(np.uint16)
    raw = np.asarray(values).astype(dtype)
    w = np.frombuffer(raw.tobytes(), dtype=">u2").astype(np.uint16).reshape(-1, words)
    if byte_order == "little":
        w = _swap_bytes(w)
    if word_order == "little" and words > 1:
        w = w[:, ::-1]
    return np.ascontiguousarray(w).reshape(-1)


def to_engineering(raw: np.ndarray, scale: float, offset: float) -> np.ndarray:
    """``raw * scale + offset`` (no copy when neither changes anything)."""
    if scale == 1.0 and offset == 0.0:
        return raw
    return raw * scale + offset
