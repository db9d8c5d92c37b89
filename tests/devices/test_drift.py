"""PSI and Kolmogorov-Smirnov drift against a training reference, from samples or from the
running statistics a controller publishes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from app.ml.drift_stats import (
    Thresholds,
    bin_fractions,
    drift_from_samples,
    drift_from_stats,
    feature_drift_samples,
    feature_drift_summary,
    level_of,
    psi,
    quantile_edges,
    reference_cdf,
)
from app.ml.refstats import reference_stats

RNG = np.random.default_rng(7)
TRAIN = RNG.normal(size=(20_000, 3)) * [1.0, 2.0, 0.5] + [0.0, 5.0, -1.0]
REFS = reference_stats(TRAIN, ("a", "b", "c"))


def test_psi_by_hand():
    assert psi([0.5, 0.5], [0.5, 0.5]) == 0.0
    expected = (0.6 - 0.5) * np.log(0.6 / 0.5) + (0.4 - 0.5) * np.log(0.4 / 0.5)
    assert psi([0.5, 0.5], [0.6, 0.4]) == pytest.approx(expected)
    # An empty bin counts as epsilon, so PSI stays finite.
    assert np.isfinite(psi([0.5, 0.5], [1.0, 0.0])) and psi([0.5, 0.5], [1.0, 0.0]) > 1


def test_bins_follow_the_reference_rule():
    edges = quantile_edges(TRAIN[:, 0])
    frac = bin_fractions(TRAIN[:, 0], edges)
    assert frac == pytest.approx(np.full(10, 0.1), abs=1e-3)
    assert np.allclose(edges, REFS[0].quantiles)
    assert bin_fractions(np.array([-1e9, 1e9]), edges).tolist() == [0.5] + [0.0] * 8 + [0.5]


def test_reference_cdf_matches_the_training_data():
    cdf = reference_cdf(REFS[1])
    x = np.quantile(TRAIN[:, 1], [0.1, 0.5, 0.9])
    assert cdf(x) == pytest.approx([0.1, 0.5, 0.9], abs=0.01)
    assert cdf(np.array([-1e9, 1e9])).tolist() == [0.0, 1.0]


def test_same_distribution_is_ok_and_a_shift_alarms():
    live = RNG.normal(size=(600, 3)) * [1.0, 2.0, 0.5] + [0.0, 5.0, -1.0]
    assert drift_from_samples(REFS, live).level == "ok"
    shifted = live + [0.0, 2.0, 0.0]
    report = drift_from_samples(REFS, shifted)
    assert [f.level for f in report.features] == ["ok", "alarm", "ok"]
    assert report.level == "alarm" and report.at_least("warn")[0].name == "b"
    b = report.features[1]
    assert b.psi > 0.25 and b.ks > 0.2 and b.ks_p < 1e-6 and b.method == "samples"


def test_ks_agrees_with_scipy_two_sample_on_the_same_data():
    live = RNG.normal(loc=0.3, size=2000)
    ours = feature_drift_samples(REFS[0], live)
    theirs = stats.ks_2samp(live, TRAIN[:, 0])
    assert ours.ks == pytest.approx(theirs.statistic, abs=0.03)


def test_summary_statistics_give_the_same_verdict():
    live = RNG.normal(size=(600, 3)) * [1.0, 2.0, 0.5] + [0.0, 5.0, -1.0]
    ok = drift_from_stats(REFS, 600, live.mean(0), live.var(0, ddof=1))
    assert ok.level == "ok" and ok.features[0].method == "summary"
    wide = drift_from_stats(REFS, 600, live.mean(0), live.var(0, ddof=1) * [1.0, 1.0, 9.0])
    assert [f.level for f in wide.features][2] == "alarm"
    moved = drift_from_stats(REFS, 600, live.mean(0) + [0.3, 0.0, 0.0], live.var(0, ddof=1))
    assert moved.features[0].level == "warn"


def test_too_few_samples_or_a_constant_feature():
    assert feature_drift_samples(REFS[0], np.zeros(5)).level == "ok"
    assert feature_drift_summary(REFS[0], 5, 0.0, 1.0).n == 5
    stuck = feature_drift_summary(REFS[0], 500, 3.0, 0.0)
    assert stuck.level == "alarm" and stuck.ks > 0.9


def test_levels_and_shape_checks():
    t = Thresholds()
    assert level_of(0.05, 0.5, 0.5, t) == "ok"       # a large D that is not significant
    assert level_of(0.05, 0.15, 1e-4, t) == "warn"
    assert level_of(0.3, 0.0, 1.0, t) == "alarm"
    with pytest.raises(ValueError):
        drift_from_samples(REFS, np.zeros((10, 2)))
    with pytest.raises(ValueError):
        drift_from_stats(REFS, 10, np.zeros(2), np.zeros(2))
