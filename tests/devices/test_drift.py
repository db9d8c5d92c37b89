"""PSI and Kolmogorov-Smirnov drift against a training reference, from samples or from the
running statistics a controller publishes; the controller's per-class statistics."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from app.core.clock import FakeClock
from app.devices.controller.class_stats import ClassStats, window_values
from app.devices.flash import ControllerClient, flash_package
from app.devices.flash.class_stats import read_class_stats, read_class_stats_from
from app.devices.protocol import class_stats as cs
from app.devices.protocol.words import words_f32, words_u32
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
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, package, wait_for
from tests.packages.kit import NOW

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


# -- per-class statistics on the controller (IR 7000-9999) ------------------------------

def _outputs(label: int, level: float, feature: float, ok: bool = True) -> dict:
    return {"label": np.array([label]), "scores": np.zeros((1, 3), np.float32),
            "features": np.array([[feature]], np.float32),
            "input_level": np.array([[level]], np.float32), "input_ok": np.array([ok])}


def _published(ring: ClassStats) -> dict:
    regs = ring.region()
    pages, n = regs[2], regs[3]
    out = {"seq": words_u32(regs[0:2]), "pages": pages, "n": n, "levels": regs[4],
           "held": regs[6], "invalid": regs[7]}
    for k in range(pages):
        page = regs[cs.page_address(k, n) - cs.CLASS_BASE:][:cs.stride(n)]
        out[k] = (words_u32(page[0:2]), words_f32(page[2:2 + 2 * n]),
                  words_f32(page[2 + 2 * n:2 + 4 * n]))
    return out


def test_class_stats_file_windows_by_predicted_class_and_leave_invalid_ones_out():
    ring = ClassStats()
    window = np.ones((1, 8), np.float32)
    for i in range(cs.PUBLISH_EVERY * 4):
        ring.add_window(_outputs(i % 2, 1.0 + i % 2, 10.0 * (i % 2)), window)
    # Eight windows the input checks refused, with absurd values: counted, never used.
    for _ in range(cs.PUBLISH_EVERY):
        ring.add_window(_outputs(0, 1e6, 1e6, ok=False), window)
    pub = _published(ring)
    assert pub["pages"] == 3 and pub["n"] == 2 and pub["levels"] == 1
    assert pub["held"] == 40 and pub["invalid"] == 8 and pub["seq"] == 5
    count0, mean0, m2_0 = pub[0]
    count1, mean1, _ = pub[1]
    assert (count0, count1, pub[2][0]) == (16, 16, 0)
    assert mean0.tolist() == [1.0, 0.0] and mean1.tolist() == [2.0, 10.0]  # level first
    assert m2_0.tolist() == [0.0, 0.0]


def test_class_stats_cover_the_newest_windows_only_and_restart_on_reset():
    ring = ClassStats()
    window = np.ones((1, 8), np.float32)
    for _ in range(cs.RING):
        ring.add_window(_outputs(0, 2.0, 1.0), window)     # gain x2
    for _ in range(cs.RING):
        ring.add_window(_outputs(0, 1.0, 1.0), window)     # back to normal
    assert _published(ring)[0][1].tolist() == [1.0, 1.0], "the x2 windows are forgotten"
    ring.reset()
    assert ring.region() == [0] * cs.CLASS_REGION
    for _ in range(cs.PUBLISH_EVERY - 1):
        ring.add_window(_outputs(0, 1.0, 1.0), window)
    assert _published(ring)["seq"] == 0, "nothing is published between snapshots"


def test_class_stats_without_input_checks_and_cut_to_the_block():
    # A model without input_ok or input_level: RMS per channel, finite values valid.
    page, pages, valid, values, levels = window_values(
        {"label": np.array([1]), "scores": np.zeros((1, 2)),
         "features": np.array([[5.0, 6.0]])}, np.full((2, 4), 3.0))
    assert (page, pages, valid, levels) == (1, 2, True, 2)
    assert values.tolist() == [3.0, 3.0, 5.0, 6.0]
    assert window_values({"value": np.array([1.0])}, np.ones((1, 4)))[:3] == (0, 1, True)
    # Sixteen classes and 128 features: levels first, then what fits.
    ring = ClassStats()
    ring.add(3, 16, True, np.arange(130.0), 2)
    assert ring._values is not None and ring._values.shape[1] == cs.capacity(16) == 46
    assert cs.page_address(15, 46) + cs.stride(46) <= cs.CLASS_BASE + cs.CLASS_REGION


def test_class_stats_over_modbus(controller_factory, kit):
    clock = FakeClock(NOW, frozen=True)
    ctl = controller_factory(clock=clock)
    with ControllerClient.open(ctl.endpoint, PATIENT, signer=OPERATOR) as client:
        empty = read_class_stats_from(client)
        assert empty is not None and empty.seq == 0 and empty.pages == (), "no snapshot yet"
    assert flash_package(ctl.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    sensor = ctl.runtime.sensor
    clock.advance((cs.PUBLISH_EVERY + 0.5) * sensor.period_s)
    snap = wait_for(lambda: read_class_stats(ctl.endpoint, PATIENT),
                    lambda s: s is not None and s.seq > 0, "the first snapshot")
    assert snap.levels == 1 and len(snap.pages) == 3 and snap.held == cs.PUBLISH_EVERY
    assert sum(p.count for p in snap.pages) == cs.PUBLISH_EVERY
    busy = next(p for p in snap.pages if p.count)
    # The kit's model: features mean and RMS of the window, so level == RMS feature.
    assert busy.mean[0] == pytest.approx(busy.mean[2], rel=1e-5)
