"""Drift per predicted class from a controller's running statistics (count, mean, variance of
the newest windows of each class) against that class's training reference, with hysteresis."""

# A machine in one state is compared with the training windows of that state, never with
# all states pooled (which made every single state look like drift).  Only summaries come
# over Modbus, so the measure is the shift of the live mean in reference standard deviations
# and the ratio of the spreads; the normal-approximation PSI and KS are shown beside them,
# computed with both sides taken as normal so that a skewed feature's shape is not taken
# for drift.  Measured on every CWRU 0 HP recording replayed for 60 s (128-window ring, from
# 30 windows on): no feature of any class moved more than 0.76 reference sd at gain x1, and
# every channel level moved at least 2.7 sd at gain x2 (the features, scale-free, do not
# move); spreads of heavy-tailed features doubled on single outlier windows (up to 2.6x),
# so a spread only warns, and only beyond 4x.

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.ml.drift_stats import LEVELS, scipy_stats
from app.ml.report import FeatureReference


@dataclass(frozen=True)
class ClassThresholds:
    """No class is scored on fewer than ``min_windows`` windows; a shift of the mean of
    ``shift_warn`` reference sd warns, ``shift_alarm`` alarms, if the shift is also
    significant (z test, Bonferroni over the values tested at ``alpha``); a spread ratio
    beyond ``spread_warn`` (either way) warns."""

    min_windows: int = 30
    shift_warn: float = 1.0
    shift_alarm: float = 2.0
    spread_warn: float = 4.0
    alpha: float = 0.01


@dataclass(frozen=True)
class ClassFeatureDrift:
    """One value (feature or channel level) of one class."""

    label: str
    name: str
    n: int
    shift: float    # (live mean - reference mean) / reference sd
    spread: float   # live sd / reference sd
    psi: float      # both sides as normals, over the reference's decile bins
    ks: float       # largest gap of the two normal CDFs
    level: str
    method: str = "class"


@dataclass(frozen=True)
class ClassSummaryDrift:
    """Drift of every class with enough windows; ``level`` is the worst value's, or, with
    :class:`DriftAlarm`, held at alarm until every value is back to ok."""

    features: tuple[ClassFeatureDrift, ...]
    scored: tuple[tuple[str, int], ...]     # (class, windows) scored
    unscored: tuple[tuple[str, int], ...]   # too few windows, or no reference
    invalid: int = 0                        # windows refused by the input checks
    held: int = 0                           # windows the controller's ring holds
    level: str = "ok"

    @property
    def raw_level(self) -> str:
        return max((f.level for f in self.features), key=LEVELS.index, default="ok")

    def at_least(self, level: str) -> list[ClassFeatureDrift]:
        """Values at ``level`` or worse, largest shift first."""
        out = [f for f in self.features if LEVELS.index(f.level) >= LEVELS.index(level)]
        return sorted(out, key=lambda f: (-LEVELS.index(f.level), -abs(f.shift)))


def _normal_psi_ks(ref: FeatureReference, mean: float, sd: float) -> tuple[float, float]:
    if not ref.std > 0 or not sd > 0:
        return 0.0, 0.0
    inner = scipy_stats().norm.ppf(np.linspace(0.1, 0.9, 9), loc=ref.mean, scale=ref.std)
    live = np.diff(np.concatenate([[0.0], scipy_stats().norm.cdf(inner, mean, sd), [1.0]]))
    e, a = np.full(10, 0.1), np.maximum(live, 1e-4)
    psi = float(np.sum((a - e) * np.log(a / e)))
    lo, hi = min(ref.mean - 6 * ref.std, mean - 6 * sd), max(ref.mean + 6 * ref.std,
                                                              mean + 6 * sd)
    grid = np.linspace(lo, hi, 2001)
    ks = float(np.abs(scipy_stats().norm.cdf(grid, ref.mean, ref.std)
                      - scipy_stats().norm.cdf(grid, mean, sd)).max())
    return psi, ks


def value_drift(label: str, ref: FeatureReference, n: int, mean: float, variance: float,
                n_tests: int, t: ClassThresholds) -> ClassFeatureDrift:
    """One value's shift, spread and level (ok when it cannot be judged)."""
    sd = float(np.sqrt(variance)) if np.isfinite(variance) and variance > 0 else 0.0
    if not np.isfinite(mean) or not ref.std > 0:
        # A constant training feature: any other live value is a shift of its own kind.
        moved = np.isfinite(mean) and not np.isclose(mean, ref.mean, rtol=1e-6, atol=1e-12)
        return ClassFeatureDrift(label, ref.name, n, float("inf") if moved else 0.0, 1.0,
                                 0.0, 0.0, "warn" if moved else "ok")
    shift = (mean - ref.mean) / ref.std
    spread = sd / ref.std if sd > 0 else 0.0
    z_needed = scipy_stats().norm.isf(t.alpha / max(1, n_tests) / 2)
    significant = abs(shift) * np.sqrt(n) >= z_needed
    level = "ok"
    if significant and abs(shift) >= t.shift_alarm:
        level = "alarm"
    elif (significant and abs(shift) >= t.shift_warn) or (
            spread > 0 and max(spread, 1 / spread) >= t.spread_warn):
        level = "warn"
    psi, ks = _normal_psi_ks(ref, mean, sd)
    return ClassFeatureDrift(label, ref.name, n, float(shift), float(spread), psi, ks, level)


def ordered_references(references: Sequence[FeatureReference], monitored: Sequence[str]
                       ) -> list[FeatureReference]:
    """A class reference (features, then monitored levels) in the controller's order:
    the levels first, then the features."""
    by_name = {r.name: r for r in references}
    levels = [by_name[name] for name in monitored if name in by_name]
    return levels + [r for r in references if r.name not in set(monitored)]


@dataclass(frozen=True)
class ClassLive:
    """One class's live summary: windows, mean and variance per value (levels first)."""

    label: str
    count: int
    mean: np.ndarray
    variance: np.ndarray


def drift_by_class_summary(references: Mapping[str, Sequence[FeatureReference]],
                           monitored: Sequence[str], live: Sequence[ClassLive],
                           t: ClassThresholds | None = None, *, invalid: int = 0,
                           held: int = 0) -> ClassSummaryDrift:
    """Score each class with at least ``min_windows`` windows against its reference.

    ``references`` is ValidationReport.class_reference (per class: features, then levels),
    ``monitored`` its level names; a live vector may be shorter than the reference (the
    controller cuts off features that do not fit its register block), never longer.
    """
    t = t or ClassThresholds()
    scored, unscored, todo = [], [], []
    for cls in live:
        refs = references.get(cls.label)
        if cls.count < t.min_windows or not refs:
            if cls.count:
                unscored.append((cls.label, int(cls.count)))
            continue
        ordered = ordered_references(refs, monitored)[:len(cls.mean)]
        todo.append((cls, ordered))
        scored.append((cls.label, int(cls.count)))
    n_tests = sum(len(o) for _, o in todo)
    features = tuple(value_drift(cls.label, ref, cls.count, float(cls.mean[j]),
                                 float(cls.variance[j]), n_tests, t)
                     for cls, ordered in todo for j, ref in enumerate(ordered))
    report = ClassSummaryDrift(features, tuple(scored), tuple(unscored), invalid, held)
    return ClassSummaryDrift(**{**report.__dict__, "level": report.raw_level})


class DriftAlarm:
    """Hysteresis on a drift level: an alarm holds while anything still drifts (warn or
    worse) and clears only when the drift is back to ok; one per watched controller."""

    def __init__(self) -> None:
        self.level = "ok"

    def update(self, raw_level: str) -> str:
        """The level to show and audit for a newly computed ``raw_level``."""
        if self.level == "alarm" and raw_level == "warn":
            return self.level
        self.level = raw_level
        return self.level
