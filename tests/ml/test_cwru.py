"""CWRU drive end, 10 classes, time-ordered 70/30 split with a gap: accuracy through ONNX, and
the same held-out windows at half and twice the gain, with noise, and as bad input."""

import json

import numpy as np
import pytest

from app.features.compare import compare_features
from app.ml import evaluate, lineage, parity_gate
from app.ml.checks import session
from app.ml.trainer import encode_targets


@pytest.fixture(scope="module")
def default_model(cwru_model):
    return cwru_model


@pytest.fixture(scope="module")
def exported(cwru_exported):
    return cwru_exported


def run(exported, windows):
    sess = session(exported.onnx_bytes)
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"window": windows.astype(np.float32)}),
                    strict=True))


def test_split_is_time_ordered_with_gap(cwru_set, default_model):
    assert len(set(cwru_set.labels)) == 10
    rec, starts = cwru_set.recording_ids, cwru_set.starts
    for rid in np.unique(rec):
        tr = starts[default_model.train_idx][rec[default_model.train_idx] == rid]
        te = starts[default_model.test_idx][rec[default_model.test_idx] == rid]
        assert te.min() >= tr.max() + 2 * cwru_set.spec.window
        n = (rec == rid).sum()
        assert len(tr) == int(0.7 * n)


def test_accuracy_through_onnx_runtime(cwru_set, default_model, exported):
    raw = cwru_set.raw(default_model.test_idx)
    out = run(exported, raw)
    y, _ = encode_targets("classification", cwru_set.labels[default_model.test_idx])
    accuracy = float(np.mean(out["label"] == y))
    print(f"\nCWRU DE 10 classes, {len(y)} held-out windows: ONNX accuracy {accuracy:.4%}")
    assert accuracy >= 0.995
    assert out["input_ok"].all()

    # The same windows through the Python pipeline (native features + sklearn).
    py_feats = cwru_set.features[default_model.test_idx]
    assert np.mean(out["label"] == default_model.predict(py_feats)) >= 0.999
    parity = compare_features(py_feats, out["features"], cwru_set.spec, rtol=1e-4)
    assert parity.violations == 0, parity

    report = parity_gate(default_model, exported, raw)
    print(json.dumps({k: v for k, v in report.to_dict().items() if k != "reasons"}))
    assert report.deployable, report.reasons
    assert report.label_agreement >= 0.999 and report.feature_max_rel_err < 1e-4
    assert report.validity_disagreements == 0 and report.golden_bad_flagged == 3

    record = lineage(default_model, "sha256:cwru", exported)
    assert record["onnx_hash"] == exported.sha256
    assert record["feature_spec_hash"] == cwru_set.spec.spec_hash()


def test_gain_noise_and_bad_input_through_onnx_runtime(cwru_set, default_model, exported):
    raw = cwru_set.raw(default_model.test_idx)
    y, _ = encode_targets("classification", cwru_set.labels[default_model.test_idx])
    rng = np.random.default_rng(1)
    noise = rng.standard_normal(raw.shape) * np.sqrt(raw.var(axis=2, keepdims=True) / 100)
    figures = {}
    for name, windows in (("gain x0.5", raw * 0.5), ("gain x2", raw * 2.0),
                          ("20 dB SNR", raw + noise)):
        out = run(exported, windows)
        figures[name] = float(np.mean(out["label"] == y))
    print("\nCWRU held-out windows through ONNX:", json.dumps(figures))
    assert figures["gain x0.5"] >= 0.99 and figures["gain x2"] >= 0.99
    assert figures["20 dB SNR"] >= 0.99
    bad = np.stack([np.zeros_like(raw[0]), raw[0].copy()])
    bad[1, 0, 1000] = np.nan
    out = run(exported, bad)
    assert not out["input_ok"].any() and (out["label"] == -1).all()
    assert (out["scores"] == 0).all() and np.isfinite(out["features"]).all()

    rep = evaluate(default_model, cwru_set, n_repeats=1, dataset_hash="sha256:cwru",
                   exported=exported)
    assert rep.metrics.accuracy >= 0.995
    rows = {r["name"]: r for r in rep.robustness["rows"]}
    print(json.dumps({n: (round(r["score"], 4), r["invalid_share"]) for n, r in rows.items()}))
    assert rows["gain x0.5"]["score"] >= 0.99 and rows["gain x2"]["score"] >= 0.99
    assert rows["white noise at 20 dB SNR"]["score"] >= 0.99
    assert rows["random window offsets"]["score"] >= 0.99
    for name in ("dead sensor (zeros)", "stuck sensor (constant)", "one NaN sample",
                 "clipped at the 95th percentile"):
        assert rows[name]["invalid_share"] == 1.0 and rows[name]["passed"], name
    assert rep.robustness["robust"], rep.robustness["reasons"]
    assert "SKF 6205-2RS JEM" in rep.model_card and "1797 .. 1797 rpm" in rep.model_card
    assert "scale-free" in rep.model_card and "GAIN-SENSITIVE" not in rep.model_card
    json.dumps(rep.to_dict())
