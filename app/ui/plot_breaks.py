"""Breaks in a live curve where samples are missing, so a gap is never drawn as a line."""

from __future__ import annotations

import numpy as np

#: A step in time longer than this many typical steps is a gap (a missed buffer, an outage).
GAP_FACTOR = 3.0

#: Steps sampled to estimate the typical one (a median over every step would cost more
#: than the redraw it serves).
_SAMPLED_STEPS = 1024


def typical_step(t: np.ndarray) -> float:
    """The median time step of ``t`` (from an evenly spread sample of its steps)."""
    steps = np.diff(t)
    if not len(steps):
        return 0.0
    stride = max(1, len(steps) // _SAMPLED_STEPS)
    return float(np.median(steps[::stride]))


def with_breaks(t: np.ndarray, values: np.ndarray, min_gap_s: float = 0.0,
                factor: float = GAP_FACTOR) -> tuple[np.ndarray, np.ndarray]:
    """``t`` and ``values`` with a NaN value inserted in every gap longer than ``factor``
    typical steps (and than ``min_gap_s``), for a curve drawn with ``connect="finite"``.
    The inserted time lies inside the gap, so ``t`` stays increasing (clip-to-view
    searches it)."""
    t = np.asarray(t, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if len(t) < 3:
        return t, values
    limit = max(typical_step(t) * factor, min_gap_s)
    after = np.flatnonzero(np.diff(t) > limit) + 1  # index of the first sample after a gap
    if not len(after):
        return t, values
    middle = (t[after - 1] + t[after]) / 2.0
    return np.insert(t, after, middle), np.insert(values, after, np.nan)


def gap_count(values: np.ndarray) -> int:
    """Breaks in a curve made by :func:`with_breaks` (its NaN values)."""
    return int(np.count_nonzero(np.isnan(np.asarray(values, dtype=np.float64))))
