"""Per-window explanations add up to the model's own output, for every model PlantML trains,
and name the feature that actually drives the prediction."""

from __future__ import annotations

import numpy as np
import pytest

from app.core.errors import UsageError
from app.ml.explain import explain
from app.ml.models import build_estimator
from app.ml.recipe import Recipe

RNG = np.random.default_rng(3)
X = RNG.normal(size=(400, 6))
NAMES = tuple(f"f{i}" for i in range(6))
# Only f2 decides the class: an explanation that is right for the right reason names it.
Y3 = np.digitize(X[:, 2], [-0.5, 0.5])
Y2 = (X[:, 2] > 0).astype(int)
CLASSES = ("low", "mid", "high")
# Windows far from every class boundary, where f2 alone moves the output most.
CLEAR = X[np.abs(X[:, 2]) > 1.2][:5]


def _fit(task: str, model: str, y):
    pipe = build_estimator(Recipe(task=task, model=model, params=_small(model)))
    pipe.fit(X, y)
    return pipe


def _small(model: str) -> dict:
    return {"n_estimators": 25} if model in ("random_forest", "gradient_boosting",
                                             "isolation_forest") else {}


def _own_output(pipe, x, k: int, kind: str) -> float:
    m, xs = pipe.named_steps["model"], x.reshape(1, -1)
    scaler = pipe.named_steps.get("scale")
    xs = scaler.transform(xs) if scaler is not None else xs
    if kind == "probability":
        return float(m.predict_proba(xs)[0, k])
    if kind == "value":
        return float(m.predict(xs)[0])
    raw = np.ravel(m.decision_function(xs))
    if len(raw) == 1:  # binary: the second class's log-odds
        return float(raw[0] if k == 1 else -raw[0])
    return float(raw[k])


@pytest.mark.parametrize(("model", "y", "classes"), [
    ("random_forest", Y3, CLASSES), ("gradient_boosting", Y3, CLASSES),
    ("gradient_boosting", Y2, CLASSES[:2]), ("logistic_regression", Y3, CLASSES),
    ("logistic_regression", Y2, CLASSES[:2])])
def test_a_classifier_is_explained_for_its_predicted_class(model, y, classes):
    pipe = _fit("classification", model, y)
    for row in CLEAR:
        e = explain(pipe, row, NAMES, classes)
        k = classes.index(e.explained)
        assert k == int(pipe.predict(row.reshape(1, -1))[0])
        assert e.base + e.contributions.sum() == pytest.approx(e.output, abs=1e-9)
        assert e.output == pytest.approx(_own_output(pipe, row, k, e.output_kind), abs=1e-9)
        assert e.top(1)[0][0] == "f2"


@pytest.mark.parametrize("model", ["random_forest", "gradient_boosting", "ridge"])
def test_a_regressor_adds_up_to_its_value(model):
    pipe = _fit("regression", model, 3.0 * X[:, 2] + 0.1 * X[:, 0])
    e = explain(pipe, CLEAR[0], NAMES)
    assert e.explained == "" and e.output_kind == "value"
    assert e.output == pytest.approx(float(pipe.predict(CLEAR[:1])[0]), abs=1e-9)
    assert e.base + e.contributions.sum() == pytest.approx(e.output, abs=1e-9)
    assert e.top(1)[0][0] == "f2"


def test_an_isolation_forest_is_explained_by_isolation_depth():
    pipe = build_estimator(Recipe(task="anomaly", model="isolation_forest",
                                  params={"n_estimators": 25, "random_state": 0}))
    pipe.fit(X)
    outlier = X[0].copy()
    outlier[4] = 12.0  # far outside on f4 only
    e = explain(pipe, outlier, NAMES)
    assert "depth" in e.output_kind
    assert e.base + e.contributions.sum() == pytest.approx(e.output, abs=1e-6)
    name, value = e.top(1)[0]
    assert name == "f4" and value < 0  # f4 isolates it quickly: less depth, less normal


def test_an_mlp_and_bad_input_are_refused_in_words():
    pipe = _fit("classification", "mlp", Y2)
    with pytest.raises(UsageError, match="tree and linear models; this version is a MLP"):
        explain(pipe, X[0], NAMES, CLASSES[:2])
    forest = _fit("classification", "random_forest", Y2)
    with pytest.raises(UsageError, match="not all finite"):
        explain(forest, np.full(6, np.nan), NAMES, CLASSES[:2])
    with pytest.raises(UsageError, match="5 feature values for 6"):
        explain(forest, X[0, :5], NAMES, CLASSES[:2])


def test_a_pipeline_file_with_a_foreign_type_is_refused_before_it_is_built():
    import os

    import skops.io as sio
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    from app.core.errors import IntegrityError
    from app.ml.pipeline_file import pipeline_bytes, pipeline_from_bytes

    forest = _fit("classification", "random_forest", Y2)
    back = pipeline_from_bytes(pipeline_bytes(forest))
    assert (back.predict_proba(X[:20]) == forest.predict_proba(X[:20])).all()
    hostile = Pipeline([("scale", FunctionTransformer(os.system)),
                        ("model", forest.named_steps["model"])])
    with pytest.raises(IntegrityError, match="types a PlantML pipeline never holds: .*system"):
        pipeline_from_bytes(sio.dumps(hostile), "v1/pipeline.skops")
    with pytest.raises(IntegrityError, match="not a readable pipeline file"):
        pipeline_from_bytes(b"junk", "v1/pipeline.skops")
