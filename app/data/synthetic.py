"""Synthetic machine vibration (healthy, imbalance, bearing fault) for the demo where the
CWRU recordings are not at hand; physically shaped, not random labels."""

from __future__ import annotations

import numpy as np

STATES = ("healthy", "imbalance", "bearing_fault")


def vibration(state: str, n: int, sample_rate: float = 12_000.0, seed: int = 0) -> np.ndarray:
    """``n`` samples of one accelerometer on a 29.5 Hz shaft in ``state``.

    Imbalance raises the 1x line; a bearing fault adds impacts at 107 Hz that ring a 3 kHz
    structural resonance, the pattern envelope analysis finds.
    """
    if state not in STATES:
        raise ValueError(f"state must be one of {STATES}")
    rng = np.random.default_rng(seed)
    t = np.arange(n) / sample_rate
    shaft = 2 * np.pi * 29.5 * t
    x = 0.05 * np.sin(shaft + rng.uniform(0, 6)) + 0.02 * rng.standard_normal(n)
    if state == "imbalance":
        x += 0.25 * np.sin(shaft)
    elif state == "bearing_fault":
        impacts = np.zeros(n)
        impacts[rng.integers(0, 20)::int(sample_rate / 107)] = 1.0
        k = np.arange(int(0.004 * sample_rate))
        ring = np.exp(-k / (0.0008 * sample_rate)) * np.sin(2 * np.pi * 3000 * k / sample_rate)
        x += 0.6 * np.convolve(impacts, ring)[:n]
    return x
