"""Per-feature reference statistics of the training data (quantile bins for PSI later)."""

from __future__ import annotations

import numpy as np

from app.ml.report import FeatureReference

N_BINS = 10


def reference_stats(features: np.ndarray, names: tuple[str, ...]) -> list[FeatureReference]:
    """Mean, std, range and decile bins with their training fractions, per column."""
    out = []
    for j, name in enumerate(names):
        col = np.asarray(features[:, j], dtype=np.float64)
        edges = np.quantile(col, np.linspace(0.0, 1.0, N_BINS + 1))
        # Interior edges only decide the bin; a value equal to an edge goes right,
        # the same rule a drift monitor must use (np.searchsorted side='right').
        idx = np.clip(np.searchsorted(edges[1:-1], col, side="right"), 0, N_BINS - 1)
        frac = np.bincount(idx, minlength=N_BINS) / max(1, len(col))
        out.append(FeatureReference(
            name=name, mean=float(col.mean()), std=float(col.std()), min=float(col.min()),
            max=float(col.max()), quantiles=[float(e) for e in edges],
            fractions=[float(f) for f in frac]))
    return out
