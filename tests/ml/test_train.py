"""Recipes, training with progress and cancel, reproducibility, and the validation report."""

import json

import numpy as np
import pytest
from sklearn.base import clone

from app.core.errors import Cancelled, UsageError
from app.core.progress import CancelToken
from app.ml import MODELS, Recipe, SplitSpec, evaluate, lineage, model_hash, train
from app.ml.dataset import WindowSet
from app.ml.report import AnomalyMetrics, ClassificationMetrics, RegressionMetrics


def test_recipe_round_trip_and_validation():
    r = Recipe(model="mlp", params={"alpha": 0.01}, seed=3,
               split=SplitSpec(kind="recording", test_fraction=0.25, seed=2))
    back = Recipe.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back == r and back.recipe_hash() == r.recipe_hash()
    with pytest.raises(UsageError, match="task must be"):
        Recipe(task="clustering")
    with pytest.raises(UsageError, match="model for regression"):
        Recipe(task="regression", model="logistic_regression")
    with pytest.raises(UsageError, match="plain JSON"):
        Recipe(params={"alpha": object()})
    with pytest.raises(UsageError, match="seed"):
        Recipe(seed=-1)
    with pytest.raises(UsageError, match="test fraction"):
        SplitSpec(test_fraction=1.5)


def test_unknown_or_bad_hyper_parameters(small_set):
    with pytest.raises(UsageError, match="no hyper-parameter"):
        train(small_set, Recipe(params={"n_trees": 3}))
    with pytest.raises(UsageError, match="bad hyper-parameters"):
        train(small_set, Recipe(params={"n_estimators": -4}))


@pytest.mark.parametrize("model", MODELS["classification"])
def test_classifiers_learn_the_synthetic_states(small_set, model):
    params = {"n_estimators": 20} if model == "gradient_boosting" else {}
    trained = train(small_set, Recipe(model=model, params=params))
    report = evaluate(trained, small_set, n_repeats=1)
    assert isinstance(report.metrics, ClassificationMetrics)
    assert report.metrics.classes == ["bearing", "imbalance", "ok"]
    assert report.metrics.accuracy >= 0.95, report.metrics
    assert np.array(report.metrics.confusion).sum() == report.n_test
    json.dumps(report.to_dict())  # JSON-serialisable as it is


def test_regression_and_anomaly(small_set):
    rms = small_set.features[:, small_set.feature_names.index("acc.crest_factor")]
    reg = WindowSet(small_set.spec, small_set.features, 10 * rms, small_set.recording_ids,
                    small_set.starts, small_set.signals)
    for model in MODELS["regression"]:
        params = {"n_estimators": 20} if model == "gradient_boosting" else {}
        rep = evaluate(train(reg, Recipe(task="regression", model=model, params=params)), reg,
                       n_repeats=1)
        assert isinstance(rep.metrics, RegressionMetrics)
        assert rep.metrics.r2 > 0.9, (model, rep.metrics)
    truth = np.array([lab == "bearing" for lab in small_set.labels])
    ano = WindowSet(small_set.spec, small_set.features, truth, small_set.recording_ids,
                    small_set.starts, small_set.signals)
    rep = evaluate(train(ano, Recipe(task="anomaly", model="isolation_forest")), ano,
                   n_repeats=1)
    assert isinstance(rep.metrics, AnomalyMetrics)
    assert rep.metrics.recall is not None and rep.metrics.recall > 0.9


def test_progress_and_cancel(small_set):
    seen = []
    train(small_set, Recipe(), progress=lambda f, m: seen.append((f, m)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert any("trees" in m for _, m in seen)

    token = CancelToken()

    def cancel_midway(fraction, message):
        if "trees" in message:
            token.cancel()

    with pytest.raises(Cancelled):
        train(small_set, Recipe(), progress=cancel_midway, cancel=token)
    trained = train(small_set, Recipe())
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        evaluate(trained, small_set, cancel=token)


@pytest.mark.parametrize(("model", "params"), [
    ("random_forest", {"n_estimators": 25}),
    ("gradient_boosting", {"n_estimators": 25, "subsample": 0.7}),
])
def test_chunked_fit_equals_single_fit(small_set, model, params):
    # Ensembles grow in warm-start chunks for progress and cancel.
    trained = train(small_set, Recipe(model=model, params=params, seed=7))
    single = clone(trained.pipeline).set_params(model__warm_start=False)
    x = small_set.features[trained.train_idx]
    y = np.searchsorted(np.array(trained.classes), small_set.labels[trained.train_idx])
    single.fit(x, y)
    probe = small_set.features[trained.test_idx]
    assert np.array_equal(single.predict_proba(probe), trained.pipeline.predict_proba(probe))


def test_rerun_reproduces_metrics_and_model(small_set):
    recipe = Recipe(model="mlp", seed=5)
    a, b = train(small_set, recipe), train(small_set, recipe)
    ra, rb = evaluate(a, small_set, n_repeats=2), evaluate(b, small_set, n_repeats=2)
    assert ra.report_hash() == rb.report_hash()
    assert model_hash(a) == model_hash(b)
    la, lb = lineage(a, "sha256:abc"), lineage(b, "sha256:abc")
    assert la == lb
    assert la["dataset_hash"] == "sha256:abc" and la["onnx_hash"] is None
    assert set(la["libraries"]) >= {"python", "numpy", "scikit-learn", "skl2onnx", "onnx",
                                    "onnxruntime"}
    json.dumps(la)


def test_report_contents(small_set):
    trained = train(small_set, Recipe())
    rep = evaluate(trained, small_set, n_repeats=2, dataset_hash="sha256:feed")
    assert set(rep.importance.mean) == set(small_set.feature_names)
    assert len(rep.reference) == small_set.spec.n_features
    ref = rep.reference[0]
    assert len(ref.quantiles) == 11 and sum(ref.fractions) == pytest.approx(1.0)
    assert "sha256:feed" in rep.model_card and "## Limitations" in rep.model_card
    assert rep.n_train == len(trained.train_idx) and rep.feature_spec_hash == \
        small_set.spec.spec_hash()


def test_single_recording_class_stays_in_training(small_set):
    labels = small_set.labels.copy()
    labels[small_set.recording_ids == "ok-0"] = "rare"
    rare = WindowSet(small_set.spec, small_set.features, labels, small_set.recording_ids,
                     small_set.starts, small_set.signals)
    trained = train(rare, Recipe(split=SplitSpec(kind="recording", seed=0)))
    assert "ok-0" in set(rare.recording_ids[trained.train_idx])
    assert "ok-0" not in set(rare.recording_ids[trained.test_idx])
    with pytest.raises(UsageError, match="at least two labels"):
        one = WindowSet(small_set.spec, small_set.features, np.full(len(labels), "x"),
                        small_set.recording_ids, small_set.starts, small_set.signals)
        train(one, Recipe())
