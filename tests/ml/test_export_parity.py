"""ONNX export of every model family, the parity gate, and the float32 pitfalls it guards."""

import numpy as np
import onnx
import pytest
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import RandomForestClassifier

from app.features.onnx_graph import ML_OPSET, OPSET
from app.ml import MODELS, Recipe, export_onnx, lineage, parity_gate, train
from app.ml.checks import session
from app.ml.dataset import WindowSet
from app.ml.schema import schema_of
from app.ml.thresholds import fix_thresholds, floor_float32, sklearn_trees, tree_probes

FAST = {"gradient_boosting": {"n_estimators": 20}, "mlp": {"max_iter": 200}}


def run(exported, windows):
    sess = session(exported.onnx_bytes)
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"window": windows.astype(np.float32)}), strict=True))


@pytest.mark.parametrize("model", MODELS["classification"])
def test_classifier_export_passes_the_gate(small_set, model):
    trained = train(small_set, Recipe(model=model, params=FAST.get(model, {})))
    exported = export_onnx(trained)
    onx = onnx.load_from_string(exported.onnx_bytes)
    onnx.checker.check_model(onx, full_check=True)
    assert {o.domain or "": o.version for o in onx.opset_import} == {
        "": OPSET, "ai.onnx.ml": ML_OPSET}
    inputs, outputs = schema_of(onx)
    assert [t.to_dict() for t in inputs] == [t.to_dict() for t in exported.schema.inputs]
    assert [o.name for o in outputs] == ["label", "scores", "features", "input_ok",
                                         "input_reason", "input_level"]
    raw = small_set.raw(trained.test_idx)
    report = parity_gate(trained, exported, raw)
    assert report.deployable, report.reasons
    assert report.label_agreement >= 0.999 and report.feature_violations == 0
    assert report.n_probes > 0 and report.probe_label_disagreements == 0
    out = run(exported, raw[:5])
    assert out["label"].dtype == np.int64 and out["scores"].shape == (5, 3)
    assert lineage(trained, "sha256:d", exported)["onnx_hash"] == exported.sha256


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_regressor_and_anomaly_export(small_set):
    rms = small_set.features[:, small_set.feature_names.index("acc.crest_factor")]
    reg = WindowSet(small_set.spec, small_set.features, 100 * rms, small_set.recording_ids,
                    small_set.starts, small_set.signals)
    for model in MODELS["regression"]:
        trained = train(reg, Recipe(task="regression", model=model,
                                    params=FAST.get(model, {})))
        exported = export_onnx(trained)
        report = parity_gate(trained, exported, reg.raw(trained.test_idx))
        assert report.deployable, (model, report.reasons)
        assert [o.name for o in exported.schema.outputs] == [
            "value", "features", "input_ok", "input_reason", "input_level"]
    truth = np.array([lab == "bearing" for lab in small_set.labels])
    ano = WindowSet(small_set.spec, small_set.features, truth, small_set.recording_ids,
                    small_set.starts, small_set.signals)
    trained = train(ano, Recipe(task="anomaly", model="isolation_forest",
                                params={"n_estimators": 25}))
    exported = export_onnx(trained)
    report = parity_gate(trained, exported, ano.raw(trained.test_idx))
    assert report.deployable, report.reasons
    out = run(exported, ano.raw(trained.test_idx))
    assert set(np.unique(out["label"])) <= {0, 1}
    assert np.array_equal(out["label"], (out["scores"][:, 0] < 0).astype(np.int64))


def test_floor_float32():
    thr = np.array([1.0, 0.1, -0.1, 1e-30, -3.3e5])
    low = floor_float32(thr)
    assert low.dtype == np.float32
    assert (low.astype(np.float64) <= thr).all()
    assert (np.nextafter(low, np.float32(np.inf)).astype(np.float64) > thr).all()


def adjacent_float32_data():
    """One feature on consecutive float32 values with alternating classes: every split
    threshold is the float64 midpoint of two adjacent float32 values."""
    # Near 16 a float32 step (1.9e-6) exceeds sklearn's minimum split gap (1e-7).
    x = np.array([np.float32(16.0)], dtype=np.float32)
    for _ in range(399):
        x = np.append(x, np.nextafter(x[-1], np.float32(32.0)))
    y = (np.arange(400) // 3) % 2
    return x.astype(np.float64).reshape(-1, 1), y


def test_threshold_rounding_pitfall_is_fixed_and_probed():
    x, y = adjacent_float32_data()
    rf = RandomForestClassifier(n_estimators=5, random_state=0, bootstrap=False).fit(x, y)
    onx = convert_sklearn(rf, initial_types=[("x", FloatTensorType([None, 1]))],
                          target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
                          options={id(rf): {"zipmap": False}})

    def disagreements(model, probes):
        got = session(model.SerializeToString()).run(None, {"x": probes})[0]
        return int((got != rf.predict(probes.astype(np.float64))).sum())

    probes = tree_probes(rf, x, 400, seed=0)
    assert len(probes) > 0
    # skl2onnx 1.20 already rounds these thresholds down; the fix is then a no-op guard.
    assert fix_thresholds(onx, rf) == 0
    assert disagreements(onx, probes) == 0
    # A converter that rounds to nearest (as a plain float32 cast does) goes wrong
    # exactly on the probes; the fix repairs it.
    node = next(n for n in onx.graph.node if n.op_type == "TreeEnsembleClassifier")
    attr = next(a for a in node.attribute if a.name == "nodes_values")
    trees = sklearn_trees(rf)
    ids = {a.name: list(a.ints) for a in node.attribute if a.name in ("nodes_treeids",
                                                                       "nodes_nodeids")}
    nearest = [float(np.float32(trees[t].threshold[n])) for t, n in
               zip(ids["nodes_treeids"], ids["nodes_nodeids"], strict=True)]
    del attr.floats[:]
    attr.floats.extend(nearest)
    assert disagreements(onx, probes) > 0
    assert fix_thresholds(onx, rf) > 0
    assert disagreements(onx, probes) == 0
    assert disagreements(onx, x.astype(np.float32)) == 0


def test_vote_ties_follow_numpy_argmax(small_set):
    # Two trees: many windows get a 50/50 vote; the exported label must be the
    # first maximum, as sklearn's predict, whatever the tree operator prefers.
    trained = train(small_set, Recipe(params={"n_estimators": 2, "max_features": 1,
                                              "max_samples": 20}))
    exported = export_onnx(trained)
    raw = small_set.raw(trained.test_idx)
    out = run(exported, raw)
    assert np.array_equal(out["label"], np.argmax(out["scores"], axis=1))
    assert np.array_equal(out["label"], trained.predict(small_set.features[trained.test_idx]))
    ties = np.sort(out["scores"], axis=1)[:, -1] == np.sort(out["scores"], axis=1)[:, -2]
    assert ties.any()
    report = parity_gate(trained, exported, raw)
    assert report.label_disagreements == report.tie_disagreements
