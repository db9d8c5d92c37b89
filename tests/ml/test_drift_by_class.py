"""Drift against the reference of the predicted class: a replay of any CWRU training recording
stays green, the same replay at twice the gain raises the alarm (on the channel level)."""

import numpy as np
import pytest

from app.ml import evaluate
from app.ml.checks import session
from app.ml.drift_stats import drift_by_class, drift_from_samples

HOP = 1024  # the controller's hop in the replay: windows overlap by half


@pytest.fixture(scope="module")
def report(cwru_model, cwru_set):
    return evaluate(cwru_model, cwru_set, n_repeats=1, robustness=False)


def replay(exported, model, x):
    """The exported model on every window of x at HOP, as a controller would run it."""
    sess = session(exported.onnx_bytes)
    names = [o.name for o in sess.get_outputs()]
    starts = np.arange(0, x.shape[1] - model.spec.window + 1, HOP)
    windows = np.stack([x[:, s:s + model.spec.window] for s in starts]).astype(np.float32)
    out = dict(zip(names, sess.run(None, {"window": windows}), strict=True))
    labels = [model.classes[i] if i >= 0 else "" for i in out["label"]]
    values = np.concatenate([out["features"], out["input_level"]], axis=1)
    return labels, values, out


def test_class_reference_holds_features_and_levels(report, cwru_model):
    assert set(report.class_reference) == set(cwru_model.classes)
    names = [r.name for r in report.class_reference["Normal"]]
    assert names == list(cwru_model.spec.feature_names()) + ["DE.level"]
    assert report.monitored == ["DE.level"]


def test_training_replays_stay_green_and_gain_x2_raises_the_alarm(report, cwru_model,
                                                                 cwru_exported, cwru_set):
    pooled_alarms = 0
    for rid, signal in cwru_set.signals.items():
        labels, values, out = replay(cwru_exported, cwru_model, signal)
        drift = drift_by_class(report.class_reference, labels, values, out["input_ok"],
                               independence=HOP / cwru_model.spec.window)
        assert drift.level == "ok", (rid, drift.at_least("warn")[:3])
        assert drift.n_scored == len(labels) and drift.n_invalid == 0
        pooled_alarms += drift_from_samples(report.reference, out["features"]).level == "alarm"

        labels2, values2, out2 = replay(cwru_exported, cwru_model, 2.0 * signal)
        doubled = drift_by_class(report.class_reference, labels2, values2, out2["input_ok"],
                                 independence=HOP / cwru_model.spec.window)
        assert doubled.level == "alarm", rid
        # Scale-free features do not move; the monitored level does.
        assert {f.name for _, f in doubled.at_least("alarm")} == {"DE.level"}, rid
    # The pooled reference of every class calls a machine in any one state drifting.
    assert pooled_alarms >= 8


def test_invalid_windows_are_left_out(report, cwru_model, cwru_exported, cwru_set):
    signal = cwru_set.signals["1797_Normal"].copy()
    signal[:, 20_000:60_000] = 0.0  # the sensor dies for a while
    labels, values, out = replay(cwru_exported, cwru_model, signal)
    drift = drift_by_class(report.class_reference, labels, values, out["input_ok"],
                           independence=0.5)
    assert drift.n_invalid >= 30 and drift.level == "ok"
