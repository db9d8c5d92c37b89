"""CWRU drive end, 10 classes, time-ordered 70/30 split with a gap: accuracy through ONNX."""

import json

import numpy as np
import pytest

from app.features.compare import compare_features
from app.ml import Recipe, evaluate, export_onnx, lineage, parity_gate, train
from app.ml.checks import session
from app.ml.trainer import encode_targets


@pytest.fixture(scope="module")
def default_model(cwru_set):
    return train(cwru_set, Recipe())  # random forest, time split, gap of one window


def test_split_is_time_ordered_with_gap(cwru_set, default_model):
    assert len(set(cwru_set.labels)) == 10
    rec, starts = cwru_set.recording_ids, cwru_set.starts
    for rid in np.unique(rec):
        tr = starts[default_model.train_idx][rec[default_model.train_idx] == rid]
        te = starts[default_model.test_idx][rec[default_model.test_idx] == rid]
        assert te.min() >= tr.max() + 2 * cwru_set.spec.window
        n = (rec == rid).sum()
        assert len(tr) == int(0.7 * n)


def test_accuracy_through_onnx_runtime(cwru_set, default_model):
    exported = export_onnx(default_model)
    raw = cwru_set.raw(default_model.test_idx)
    sess = session(exported.onnx_bytes)
    label, scores, features = sess.run(None, {"window": raw.astype(np.float32)})
    y, _ = encode_targets("classification", cwru_set.labels[default_model.test_idx])
    accuracy = float(np.mean(label == y))
    print(f"\nCWRU DE 10 classes, {len(y)} held-out windows: ONNX accuracy {accuracy:.4%}")
    assert accuracy >= 0.995

    # The same windows through the Python pipeline (native features + sklearn).
    py_feats = cwru_set.features[default_model.test_idx]
    assert np.mean(label == default_model.predict(py_feats)) >= 0.999
    parity = compare_features(py_feats, features, cwru_set.spec, rtol=1e-4)
    assert parity.violations == 0, parity

    report = parity_gate(default_model, exported, raw)
    print(json.dumps({k: v for k, v in report.to_dict().items() if k != "reasons"}))
    assert report.deployable, report.reasons
    assert report.label_agreement >= 0.999
    assert report.feature_max_rel_err < 1e-4

    rep = evaluate(default_model, cwru_set, n_repeats=1, dataset_hash="sha256:cwru")
    assert rep.metrics.accuracy >= 0.995
    record = lineage(default_model, "sha256:cwru", exported)
    assert record["onnx_hash"] == exported.sha256
    assert record["feature_spec_hash"] == cwru_set.spec.spec_hash()
    json.dumps({"report": rep.to_dict(), "parity": report.to_dict(), "lineage": record})
