"""Per-feature reference statistics of the training data (quantile bins for PSI), pooled and
per class, with each channel's level as a monitored statistic."""

# Pooling every class's training windows makes a machine in any single state look like
# drift (its features cover one class's part of the pooled distribution).  The reference
# of each class is what a live window predicted as that class is compared with.  With
# scale-free features a change of sensor gain does not move the features at all, so each
# channel's RMS (the speed channel's mean) is kept as a monitored statistic, a model
# feature or not: a re-ranged transmitter or a swapped sensor still shows as drift.

from __future__ import annotations

import numpy as np

from app.ml.report import FeatureReference

N_BINS = 10
MIN_CLASS_WINDOWS = 10  # fewer training windows than this give no class reference


def level_names(channels: tuple[str, ...]) -> list[str]:
    """Names of the monitored level statistics: <channel>.level."""
    return [f"{ch}.level" for ch in channels]


def reference_stats(features: np.ndarray, names: tuple[str, ...] | list[str]
                    ) -> list[FeatureReference]:
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


def class_reference(features: np.ndarray, levels: np.ndarray, groups: np.ndarray,
                    names: tuple[str, ...], channels: tuple[str, ...]
                    ) -> dict[str, list[FeatureReference]]:
    """Per group (class name): references of every feature, then of every channel level.

    ``groups`` names each training window's class; groups with fewer than
    MIN_CLASS_WINDOWS windows get none (their live windows are then not scored).
    """
    values = np.concatenate([np.asarray(features, dtype=np.float64),
                             np.asarray(levels, dtype=np.float64)], axis=1)
    all_names = list(names) + level_names(channels)
    out = {}
    for group in sorted({str(g) for g in groups}):
        rows = np.asarray([str(g) == group for g in groups])
        if rows.sum() >= MIN_CLASS_WINDOWS:
            out[group] = reference_stats(values[rows], all_names)
    return out
