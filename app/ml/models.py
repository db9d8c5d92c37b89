"""scikit-learn estimators for each recipe model name, with the defaults PlantML trains."""

from __future__ import annotations

from typing import Any

from sklearn.base import BaseEstimator
from sklearn.ensemble import (
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    IsolationForest,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from app.core.errors import UsageError
from app.ml.recipe import Recipe

# (estimator class, defaults, needs a scaler).  Odd forest sizes make exact
# vote ties rarer.  Gradient boosting is the classic estimator: skl2onnx 1.20
# cannot convert HistGradientBoosting* from scikit-learn 1.9.
_TABLE: dict[tuple[str, str], tuple[type, dict[str, Any], bool]] = {
    ("classification", "random_forest"): (RandomForestClassifier, {"n_estimators": 101}, False),
    ("classification", "gradient_boosting"): (GradientBoostingClassifier, {}, False),
    ("classification", "logistic_regression"): (LogisticRegression, {"max_iter": 5000}, True),
    ("classification", "mlp"): (
        MLPClassifier, {"hidden_layer_sizes": [64, 32], "max_iter": 1000}, True),
    ("regression", "random_forest"): (RandomForestRegressor, {"n_estimators": 101}, False),
    ("regression", "gradient_boosting"): (GradientBoostingRegressor, {}, False),
    ("regression", "ridge"): (Ridge, {}, True),
    ("regression", "mlp"): (
        MLPRegressor, {"hidden_layer_sizes": [64, 32], "max_iter": 1000}, True),
    ("anomaly", "isolation_forest"): (IsolationForest, {"n_estimators": 101}, False),
}

TREE_MODELS = ("random_forest", "gradient_boosting", "isolation_forest")


def family(recipe: Recipe) -> str:
    """Tolerance family: 'tree', 'linear' or 'mlp'."""
    if recipe.model in TREE_MODELS:
        return "tree"
    return "mlp" if recipe.model == "mlp" else "linear"


def effective_params(recipe: Recipe) -> dict[str, Any]:
    """Defaults overridden by the recipe's params; unknown names are refused."""
    cls, defaults, _ = _TABLE[(recipe.task, recipe.model)]
    allowed = set(cls().get_params())
    unknown = sorted(set(recipe.params) - allowed)
    if unknown:
        raise UsageError(f"{recipe.model} has no hyper-parameter(s) {unknown}; "
                         f"known: {sorted(allowed)}")
    params = {**defaults, **recipe.params}
    if "hidden_layer_sizes" in params:  # JSON lists -> the tuple sklearn expects
        params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
    if "random_state" in allowed:
        params["random_state"] = recipe.seed
    return params


def build_estimator(recipe: Recipe) -> Pipeline:
    """Unfitted pipeline: optional 'scale' (StandardScaler) then 'model'."""
    cls, _, scaled = _TABLE[(recipe.task, recipe.model)]
    try:
        model: BaseEstimator = cls(**effective_params(recipe))
    except (TypeError, ValueError) as exc:
        raise UsageError(f"bad hyper-parameters for {recipe.model}: {exc}") from None
    steps = ([("scale", StandardScaler())] if scaled else []) + [("model", model)]
    return Pipeline(steps)
