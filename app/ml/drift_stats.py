"""Drift of live feature values against the training reference: PSI and Kolmogorov-Smirnov."""

# Two inputs are possible, as a controller supplies them: a sample of feature vectors (the
# latest vector, collected by polling) compared bin by bin and with the exact KS test
# (drift_from_samples); or only the running count, mean and variance per feature, compared
# under a normal approximation of the live distribution (drift_from_stats: cheaper, blind
# to changes of shape).

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from app.ml.report import FeatureReference


def scipy_stats() -> Any:
    """``scipy.stats``, imported on first use: it takes more than half a second, which every
    command-line start would pay though few commands judge drift."""
    from scipy import stats
    return stats

LEVELS = ("ok", "warn", "alarm")
EPS = 1e-4  # fraction given to an empty bin, so PSI stays finite


@dataclass(frozen=True)
class Thresholds:
    """PSI: < 0.1 stable, 0.1-0.25 some shift, > 0.25 major shift (the usual rule). KS: the
    statistic D, counted only when the test is significant at ``alpha``."""

    psi_warn: float = 0.1
    psi_alarm: float = 0.25
    ks_warn: float = 0.1
    ks_alarm: float = 0.2
    alpha: float = 0.01
    min_samples: int = 30


@dataclass(frozen=True)
class FeatureDrift:
    """One feature's drift; ``method`` is "samples" or "summary" (normal approximation)."""

    name: str
    n: int
    psi: float
    ks: float
    ks_p: float
    level: str
    method: str


@dataclass(frozen=True)
class DriftReport:
    """Per-feature drift and the overall level (the worst feature's)."""

    features: tuple[FeatureDrift, ...]

    @property
    def level(self) -> str:
        return max((f.level for f in self.features), key=LEVELS.index, default="ok")

    def at_least(self, level: str) -> list[FeatureDrift]:
        """Features at ``level`` or worse, worst PSI first."""
        out = [f for f in self.features if LEVELS.index(f.level) >= LEVELS.index(level)]
        return sorted(out, key=lambda f: -f.psi)


def quantile_edges(reference: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Bin edges at the reference's quantiles 0, 1/n, ..., 1 (as app.ml.refstats makes them)."""
    return np.quantile(np.asarray(reference, dtype=np.float64), np.linspace(0.0, 1.0, n_bins + 1))


def bin_fractions(values: np.ndarray, edges: ArrayLike) -> np.ndarray:
    """Fraction of ``values`` in each bin; interior edges decide, a value on an edge goes
    right, values beyond the outer edges fall into the outer bins (the refstats rule)."""
    edges = np.asarray(edges, dtype=np.float64)
    n_bins = len(edges) - 1
    idx = np.clip(np.searchsorted(edges[1:-1], np.asarray(values), side="right"), 0, n_bins - 1)
    return np.bincount(idx, minlength=n_bins) / max(1, len(values))


def psi(expected: ArrayLike, actual: ArrayLike, eps: float = EPS) -> float:
    """Population stability index: sum (a - e) ln(a / e), empty bins raised to ``eps``."""
    e = np.maximum(np.asarray(expected, dtype=np.float64), eps)
    a = np.maximum(np.asarray(actual, dtype=np.float64), eps)
    return float(np.sum((a - e) * np.log(a / e)))


def reference_cdf(ref: FeatureReference) -> Callable[[np.ndarray], np.ndarray]:
    """The reference CDF, piecewise linear through its quantile edges."""
    edges = np.asarray(ref.quantiles, dtype=np.float64)
    levels = np.concatenate([[0.0], np.cumsum(ref.fractions)])
    levels /= levels[-1] if levels[-1] > 0 else 1.0
    # Repeated edges (a feature with many equal values) need strictly rising x for interp.
    x = edges + np.arange(len(edges)) * 1e-12 * max(1.0, float(np.abs(edges).max()))
    return lambda v: np.interp(np.asarray(v, dtype=np.float64), x, levels, left=0.0, right=1.0)


def _normal_cdf(mean: float, std: float) -> Callable[[np.ndarray], np.ndarray]:
    if not std > 0:
        return lambda v: (np.asarray(v, dtype=np.float64) >= mean).astype(np.float64)
    return lambda v: scipy_stats().norm.cdf(np.asarray(v, dtype=np.float64), loc=mean, scale=std)


def level_of(psi_value: float, ks: float, ks_p: float, t: Thresholds) -> str:
    """ok / warn / alarm from PSI and a significant KS statistic, whichever is worse."""
    significant = ks_p < t.alpha
    if psi_value >= t.psi_alarm or (significant and ks >= t.ks_alarm):
        return "alarm"
    if psi_value >= t.psi_warn or (significant and ks >= t.ks_warn):
        return "warn"
    return "ok"


def feature_drift_samples(ref: FeatureReference, values: np.ndarray,
                          t: Thresholds | None = None) -> FeatureDrift:
    """PSI over the reference's bins and the one-sample KS test against its CDF."""
    t = t or Thresholds()
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < t.min_samples:
        return FeatureDrift(ref.name, len(v), 0.0, 0.0, 1.0, "ok", "samples")
    p_val = psi(ref.fractions, bin_fractions(v, ref.quantiles))
    res = scipy_stats().ks_1samp(v, reference_cdf(ref))
    ks, p = float(res.statistic), float(res.pvalue)
    return FeatureDrift(ref.name, len(v), p_val, ks, p, level_of(p_val, ks, p, t), "samples")


def feature_drift_summary(ref: FeatureReference, count: int, mean: float, variance: float,
                          t: Thresholds | None = None) -> FeatureDrift:
    """PSI and KS when only the running count, mean and variance are known: the live
    values are taken as normal N(mean, variance). D is the largest CDF gap (evaluated
    on a fine grid); its p-value treats ``count`` as the sample size (an approximation)."""
    t = t or Thresholds()
    if count < t.min_samples or not np.isfinite(mean) or not np.isfinite(variance):
        return FeatureDrift(ref.name, count, 0.0, 0.0, 1.0, "ok", "summary")
    live = _normal_cdf(mean, float(np.sqrt(max(variance, 0.0))))
    edges = np.asarray(ref.quantiles, dtype=np.float64)
    inner = live(edges[1:-1])
    expected_live = np.diff(np.concatenate([[0.0], inner, [1.0]]))
    p_val = psi(ref.fractions, expected_live)
    std = float(np.sqrt(max(variance, 0.0)))
    lo = min(edges[0], mean - 6 * std) if std > 0 else min(edges[0], mean)
    hi = max(edges[-1], mean + 6 * std) if std > 0 else max(edges[-1], mean)
    grid = np.unique(np.concatenate([np.linspace(lo, hi, 4001), edges, [mean]]))
    gaps = np.abs(reference_cdf(ref)(grid) - live(grid))
    if not std > 0:  # a step: compare both sides of it
        gaps = np.maximum(gaps, np.abs(reference_cdf(ref)(np.array([mean])) - 0.0))
    ks = float(gaps.max())
    p = float(scipy_stats().kstwo.sf(ks, count))
    return FeatureDrift(ref.name, count, p_val, ks, p, level_of(p_val, ks, p, t), "summary")


def drift_from_samples(references: Sequence[FeatureReference], samples: np.ndarray,
                       t: Thresholds | None = None) -> DriftReport:
    """``samples`` [n, features] (columns in the references' order)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] < len(references):
        raise ValueError(f"samples of shape {x.shape} do not cover {len(references)} features")
    return DriftReport(tuple(feature_drift_samples(ref, x[:, j], t)
                             for j, ref in enumerate(references)))


def drift_from_stats(references: Sequence[FeatureReference], count: int, mean: np.ndarray,
                     variance: np.ndarray, t: Thresholds | None = None) -> DriftReport:
    """From a controller's running statistics (count, mean and variance per feature)."""
    if len(mean) < len(references) or len(variance) < len(references):
        raise ValueError(f"statistics of {len(mean)} features do not cover "
                         f"{len(references)} references")
    return DriftReport(tuple(feature_drift_summary(ref, count, float(mean[j]),
                                                   float(variance[j]), t)
                             for j, ref in enumerate(references)))


# -- class-conditional drift ------------------------------------------------------------
# A live window is compared with the training windows of the class the model predicted
# for it; invalid-input windows are left out (they are a sensor fault, reported as such).
# Two corrections keep a healthy replay quiet however few windows have been seen:
# PSI of n samples over B bins is biased upwards by about (B - 1) / n under no drift at
# all, so that bias is subtracted; and a feature alarms only when its KS test is also
# significant after a Bonferroni correction over the features tested.  Overlapping
# windows are not independent: ``independence`` (hop / window, at most 1) scales the
# sample size both corrections use.

@dataclass(frozen=True)
class ClassDrift:
    """Drift of the live windows predicted as one class against that class's reference."""

    label: str
    n: int
    report: DriftReport

    @property
    def level(self) -> str:
        return self.report.level


@dataclass(frozen=True)
class ConditionalDriftReport:
    """Per predicted class; windows of classes without a reference and invalid ones are
    counted, not scored."""

    classes: tuple[ClassDrift, ...]
    n_scored: int
    n_invalid: int
    n_unreferenced: int

    @property
    def level(self) -> str:
        return max((c.level for c in self.classes), key=LEVELS.index, default="ok")

    def at_least(self, level: str) -> list[tuple[str, FeatureDrift]]:
        """(class, feature) at ``level`` or worse, worst PSI first."""
        out = [(c.label, f) for c in self.classes for f in c.report.at_least(level)]
        return sorted(out, key=lambda cf: -cf[1].psi)


def _class_feature_drift(ref: FeatureReference, values: np.ndarray, n_eff: float,
                         n_tests: int, t: Thresholds) -> FeatureDrift:
    v = values[np.isfinite(values)]
    if len(v) < t.min_samples:
        return FeatureDrift(ref.name, len(v), 0.0, 0.0, 1.0, "ok", "class")
    bias = (len(ref.fractions) - 1) / n_eff
    p_val = max(0.0, psi(ref.fractions, bin_fractions(v, ref.quantiles)) - bias)
    ks = float(scipy_stats().ks_1samp(v, reference_cdf(ref)).statistic)
    p = float(scipy_stats().kstwo.sf(ks, max(1, int(round(n_eff)))))
    significant = p < t.alpha / max(1, n_tests)
    level = "ok"
    if significant and (p_val >= t.psi_alarm or ks >= t.ks_alarm):
        level = "alarm"
    elif significant and (p_val >= t.psi_warn or ks >= t.ks_warn):
        level = "warn"
    return FeatureDrift(ref.name, len(v), p_val, ks, p, level, "class")


def drift_by_class(references: dict[str, Sequence[FeatureReference]], labels: Sequence,
                   values: np.ndarray, valid: np.ndarray | None = None,
                   t: Thresholds | None = None, independence: float = 1.0
                   ) -> ConditionalDriftReport:
    """Score live windows against the reference of their predicted class.

    ``labels`` is each window's predicted class name (an invalid window's label is
    ignored); ``values`` [n, features + channels] its features and then each channel's
    level (the model's ``features`` and ``input_level`` outputs), in the order of the
    references (ValidationReport.class_reference); ``valid`` the model's ``input_ok``.
    """
    t = t or Thresholds()
    x = np.asarray(values, dtype=np.float64)
    names = [str(v) for v in labels]
    ok = np.ones(len(names), dtype=bool) if valid is None else np.asarray(valid, dtype=bool)
    if x.ndim != 2 or len(x) != len(names) or len(ok) != len(names):
        raise ValueError(f"values {x.shape}, {len(names)} labels and {len(ok)} validity flags "
                         "do not match")
    classes, unreferenced = [], 0
    for label in sorted(set(np.asarray(names, dtype=object)[ok].tolist())):
        rows = ok & (np.asarray(names, dtype=object) == label)
        refs = references.get(label)
        if refs is None:
            unreferenced += int(rows.sum())
            continue
        if x.shape[1] < len(refs):
            raise ValueError(f"values of {x.shape[1]} columns do not cover {len(refs)} "
                             "references")
        n_eff = max(1.0, rows.sum() * min(1.0, independence))
        drifts = tuple(_class_feature_drift(ref, x[rows, j], n_eff, len(refs), t)
                       for j, ref in enumerate(refs))
        classes.append(ClassDrift(label, int(rows.sum()), DriftReport(drifts)))
    return ConditionalDriftReport(tuple(classes), n_scored=int(ok.sum()) - unreferenced,
                                  n_invalid=int((~ok).sum()), n_unreferenced=unreferenced)
