"""Compare two feature matrices of one spec with a tolerance that respects near-zero features."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.features.spec import FeatureSpec

# Features whose natural unit is 1 (dimensionless): near 0 they are compared
# against 1, not against their own tiny size.  Shares (of the total energy) and
# line prominences (over their background) are dimensionless too.
_UNIT_SCALE = ("skewness", "kurtosis", "excess_kurtosis", "crest_factor", "shape_factor",
               "impulse_factor", "zero_crossing_rate")
_UNIT_PREFIXES = ("band_share_", "order_", "env_share_", "env_")


def _unit_scale(name: str) -> bool:
    return name in _UNIT_SCALE or (name.startswith(_UNIT_PREFIXES) and
                                   not name.startswith(("env_band_", "env_energy_")))


@dataclass(frozen=True)
class FeatureParity:
    """Largest errors of ``other`` against ``reference``, and entries outside the tolerance."""

    rtol: float
    max_abs_err: float
    max_rel_err: float  # diff / (|reference| + floor * column scale)
    violations: int
    worst_feature: str


def column_scales(reference: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Per column, the magnitude its rounding errors are relative to."""
    names = spec.channel_feature_names()
    per = len(names)
    scale = np.abs(reference).max(axis=0) if len(reference) else np.zeros(reference.shape[1])
    for c in range(len(spec.analysed_channels())):
        block = slice(c * per, (c + 1) * per)
        cols = scale[block]
        for j, name in enumerate(names):
            if _unit_scale(name):
                cols[j] = max(cols[j], 1.0)
            elif name == "mean" and "rms" in names:  # a mean near 0 is rounded at signal size
                cols[j] = max(cols[j], cols[names.index("rms")])
    return scale


def compare_features(reference: np.ndarray, other: np.ndarray, spec: FeatureSpec,
                     rtol: float = 1e-4, floor: float = 0.1) -> FeatureParity:
    """Entrywise |other - reference| <= rtol * (|reference| + floor * column scale)."""
    ref = np.asarray(reference, dtype=np.float64)
    oth = np.asarray(other, dtype=np.float64)
    if ref.shape != oth.shape:
        raise ValueError(f"feature shapes differ: {ref.shape} and {oth.shape}")
    if ref.size == 0:
        return FeatureParity(rtol, 0.0, 0.0, 0, "")
    diff = np.abs(oth - ref)
    denom = np.abs(ref) + floor * column_scales(ref, spec)
    rel = np.where(denom > 0, diff / np.where(denom > 0, denom, 1.0),
                   np.where(diff > 0, np.inf, 0.0))
    bad = rel > rtol
    worst = int(np.argmax(rel.max(axis=0)))
    return FeatureParity(rtol=rtol, max_abs_err=float(diff.max()), max_rel_err=float(rel.max()),
                         violations=int(bad.sum()), worst_feature=spec.feature_names()[worst])
