"""Per-class drift from summaries: no alarm on too few windows, the shift in reference sd
decides, levels come first on the wire, and an alarm holds until the drift is back to ok."""

import numpy as np
import pytest

from app.ml.drift_class import (
    ClassLive,
    ClassThresholds,
    DriftAlarm,
    drift_by_class_summary,
    ordered_references,
    value_drift,
)
from app.ml.refstats import class_reference

RNG = np.random.default_rng(11)
FEATS = np.concatenate([RNG.normal(0.0, 1.0, 500), RNG.normal(5.0, 2.0, 500)])[:, None]
LEVELS = np.concatenate([RNG.normal(1.0, 0.1, 500), RNG.normal(3.0, 0.3, 500)])[:, None]
GROUPS = np.array(["a"] * 500 + ["b"] * 500, dtype=object)
REFS = class_reference(FEATS, LEVELS, GROUPS, ("x.f",), ("x",))


def live(label, n, level, feature, level_var=None, feature_var=None):
    ref = {r.name: r for r in REFS[label]}
    var = [level_var if level_var is not None else ref["x.level"].std ** 2,
           feature_var if feature_var is not None else ref["x.f"].std ** 2]
    return ClassLive(label, n, np.array([level, feature]), np.array(var))


def test_levels_come_first_as_the_controller_sends_them():
    assert [r.name for r in REFS["a"]] == ["x.f", "x.level"]
    assert [r.name for r in ordered_references(REFS["a"], ["x.level"])] == ["x.level", "x.f"]


def test_each_class_against_its_own_reference():
    # Class b's values would be far off a pooled reference; against b's own they are not.
    ok = drift_by_class_summary(REFS, ["x.level"], [live("a", 100, 1.0, 0.0),
                                                     live("b", 100, 3.0, 5.0)])
    assert ok.level == "ok" and dict(ok.scored) == {"a": 100, "b": 100}
    gain = drift_by_class_summary(REFS, ["x.level"], [live("b", 100, 6.0, 5.0)])
    assert gain.level == "alarm"
    assert [(f.label, f.name) for f in gain.at_least("alarm")] == [("b", "x.level")]
    assert gain.at_least("alarm")[0].shift == pytest.approx(10.0, rel=0.05)


def test_no_alarm_on_too_few_windows_or_an_unknown_class():
    few = drift_by_class_summary(REFS, ["x.level"], [live("a", 29, 9.0, 9.0),
                                                      ClassLive("zz", 500, np.ones(2),
                                                                np.ones(2))])
    assert few.level == "ok" and not few.features and not few.scored
    assert dict(few.unscored) == {"a": 29, "zz": 500}
    assert drift_by_class_summary(REFS, ["x.level"], [live("a", 30, 9.0, 0.0)]).level == "alarm"


def test_shift_and_spread_levels():
    t = ClassThresholds()
    ref = REFS["a"][1]  # x.level ~ N(1, 0.1)
    assert value_drift("a", ref, 100, ref.mean + 0.5 * ref.std, ref.std ** 2, 2, t).level == "ok"
    assert value_drift("a", ref, 100, ref.mean + 1.5 * ref.std, ref.std ** 2, 2, t).level == \
        "warn"
    assert value_drift("a", ref, 100, ref.mean - 2.5 * ref.std, ref.std ** 2, 2, t).level == \
        "alarm"
    wide = value_drift("a", ref, 100, ref.mean, 25 * ref.std ** 2, 2, t)
    assert wide.level == "warn" and wide.spread == pytest.approx(5.0)
    # A shift that is large but rests on a handful of windows is not significant.
    tiny = ClassThresholds(min_windows=1)
    assert value_drift("a", ref, 2, ref.mean + 2.5 * ref.std, ref.std ** 2, 40, tiny).level \
        == "ok"
    moved = value_drift("a", ref, 100, ref.mean + 2.5 * ref.std, ref.std ** 2, 2, t)
    assert moved.psi > 0.25 and moved.ks > 0.5


def test_an_alarm_holds_until_the_drift_is_back_to_ok():
    alarm = DriftAlarm()
    assert [alarm.update(x) for x in ("ok", "warn", "ok", "alarm", "warn", "warn", "ok",
                                      "warn")] == \
        ["ok", "warn", "ok", "alarm", "alarm", "alarm", "ok", "warn"]
