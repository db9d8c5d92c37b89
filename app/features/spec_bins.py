"""The frequency grid of a spec's window: band edges, bands as rfft bin ranges, tapers."""

from __future__ import annotations

import math

import numpy as np

from app.core.errors import UsageError

Band = tuple[float, float]
WINDOW_FUNCTIONS: tuple[str, ...] = ("rectangular", "hann", "hamming", "blackman")


def equal_bands(lo: float, hi: float, n: int) -> tuple[Band, ...]:
    """``n`` adjacent bands of equal width from ``lo`` to ``hi`` Hz."""
    edges = np.linspace(lo, hi, n + 1)
    return tuple((float(a), float(b)) for a, b in zip(edges[:-1], edges[1:], strict=True))


def pow2_at_least(n: float) -> int:
    """The smallest power of two >= ``n`` (1 for anything up to 1)."""
    return 1 << max(0, math.ceil(math.log2(max(n, 1.0))))


def bin_range(band: tuple[float, ...], what: str, window: int,
              sample_rate: float) -> tuple[int, int]:
    """Bins k with lo <= k * fs / window < hi, as a range [lo, hi) of rfft bins; refused
    (naming ``what``) unless the band is a pair of numbers that holds at least one bin."""
    if len(band) != 2 or not all(math.isfinite(v) for v in band):
        raise UsageError(f"{what} must be a (low, high) pair of numbers in Hz, got {band}")
    lo, hi = band
    freqs = np.arange(window // 2 + 1) * (sample_rate / window)
    inside = np.flatnonzero((freqs >= lo) & (freqs < hi))
    if not 0 <= lo < hi or inside.size == 0:
        raise UsageError(
            f"{what} {lo:g}..{hi:g} Hz holds no frequency bin at window {window} and "
            f"{sample_rate:g} Hz (bins every {sample_rate / window:.4g} Hz, "
            f"up to {sample_rate / 2:g} Hz)")
    return int(inside[0]), int(inside[-1]) + 1


def taper(function: str, length: int) -> np.ndarray:
    """The window function, periodic (DFT-even) form, float64 of ``length`` points."""
    n = np.arange(length) * (2.0 * np.pi / length)
    if function == "hann":
        return 0.5 - 0.5 * np.cos(n)
    if function == "hamming":
        return 0.54 - 0.46 * np.cos(n)
    if function == "blackman":
        return 0.42 - 0.5 * np.cos(n) + 0.08 * np.cos(2 * n)
    return np.ones(len(n))
