"""What drove one window's prediction: exact per-feature contributions (TreeSHAP for the tree
models, the exact linear attribution for the linear ones) that add up to the model's output."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from app.core.errors import UsageError

if TYPE_CHECKING:  # scikit-learn loads when a model does, not with the services
    from sklearn.pipeline import Pipeline

#: How close base value + contributions must come to the model's own output. TreeSHAP and the
#: linear attribution are exact; this only absorbs float64 rounding over a few hundred trees.
SUM_TOLERANCE = 1e-6

#: What each model's explained output is, in words for the page and the CLI.
OUTPUT_OF = {
    "RandomForestClassifier": "probability",
    "RandomForestRegressor": "value",
    "GradientBoostingClassifier": "log-odds (raw score)",
    "GradientBoostingRegressor": "value",
    "IsolationForest": "mean isolation depth (higher: more normal)",
    "LogisticRegression": "log-odds (raw score)",
    "Ridge": "value",
}


@dataclass(frozen=True)
class Explanation:
    """``base`` + sum(``contributions``) == ``output``, the model's ``output_kind`` for the
    explained class (the predicted one for a classifier)."""

    feature_names: tuple[str, ...]
    contributions: np.ndarray  # one per feature, same order as feature_names
    base: float
    output: float
    output_kind: str
    explained: str  # the class explained ('' for a regressor or anomaly detector)

    @property
    def gap(self) -> float:
        """How far the contributions are from adding up to the output (0 when exact)."""
        return abs(self.base + float(self.contributions.sum()) - self.output)

    def top(self, n: int = 10) -> list[tuple[str, float]]:
        """The ``n`` features that moved the output most, largest magnitude first."""
        order = np.argsort(-np.abs(self.contributions), kind="stable")[:n]
        return [(self.feature_names[i], float(self.contributions[i])) for i in order]

    def to_dict(self) -> dict:
        """JSON-ready: every feature's contribution, base, output and what they mean."""
        return {"explained": self.explained, "output_kind": self.output_kind,
                "base": self.base, "output": self.output,
                "contributions": dict(zip(self.feature_names,
                                          map(float, self.contributions), strict=True))}


def explain(pipeline: Pipeline, features: np.ndarray, feature_names: tuple[str, ...],
            classes: tuple[str, ...] = (), target: str | None = None) -> Explanation:
    """Contributions of each feature of one window (``features``: shape (F,) or (1, F)) to
    the fitted ``pipeline``'s output; a classifier is explained for class ``target`` (one
    of ``classes``), by default the one it predicts."""
    x = np.asarray(features, dtype=np.float64).reshape(1, -1)
    if x.shape[1] != len(feature_names):
        raise UsageError(f"{x.shape[1]} feature values for {len(feature_names)} feature names")
    if not np.all(np.isfinite(x)):
        raise UsageError("the window's features are not all finite: it is invalid input, "
                         "so there is no prediction to explain")
    model = pipeline.named_steps["model"]
    scaler = pipeline.named_steps.get("scale")
    xs = scaler.transform(x) if scaler is not None else x
    name = type(model).__name__
    kind = OUTPUT_OF.get(name)
    if kind is None:
        raise UsageError(f"explanations are given for tree and linear models; this version "
                         f"is a {name}")
    k = int(np.argmax(model.predict_proba(xs)[0])) if hasattr(model, "predict_proba") else 0
    if target is not None:
        if target not in classes:
            raise UsageError(f"no class {target!r} to explain; the classes are "
                             f"{', '.join(classes)}")
        k = classes.index(target)
    explained = str(classes[k]) if classes and hasattr(model, "predict_proba") else ""
    if name in ("LogisticRegression", "Ridge"):
        base, contrib, output = _linear(model, xs, k)
    elif name == "GradientBoostingClassifier" and len(model.classes_) > 2:
        base, contrib, output = _boosted_class(model, xs, k)
    else:
        base, contrib, output = _tree(model, xs, k)
    if _binary_log_odds(model) and k == 0:
        # One score, the second class's log-odds: the first class's are their negatives.
        base, contrib, output = -base, -contrib, -output
    result = Explanation(feature_names=tuple(feature_names), contributions=contrib,
                         base=base, output=output, output_kind=kind, explained=explained)
    if result.gap > SUM_TOLERANCE * max(1.0, abs(output)):
        raise RuntimeError(f"the contributions miss the model's output by {result.gap:.3g}")
    return result


def _binary_log_odds(model) -> bool:
    return type(model).__name__ in ("LogisticRegression", "GradientBoostingClassifier") \
        and len(model.classes_) == 2


def _tree(model, xs: np.ndarray, k: int) -> tuple[float, np.ndarray, float]:
    import shap  # numba compiles on first import: only when an explanation is asked for

    explainer = shap.TreeExplainer(model)
    values = np.asarray(explainer.shap_values(xs))
    expected = np.ravel(explainer.expected_value)
    if values.ndim == 3:  # (1, features, classes): a forest classifier's probabilities
        contrib, base = values[0, :, k], float(expected[k])
    else:
        contrib, base = values[0], float(expected[0])
    # The model's own output where scikit-learn gives it; the isolation depth only shap does.
    if values.ndim == 3:
        output = float(model.predict_proba(xs)[0, k])
    elif hasattr(model, "decision_function") and hasattr(model, "predict_proba"):
        output = float(np.ravel(model.decision_function(xs))[0])
    elif hasattr(model, "score_samples"):
        output = float(np.ravel(explainer.model.predict(xs))[0])
    else:
        output = float(model.predict(xs)[0])
    return base, contrib.astype(np.float64), output


def _boosted_class(model, xs: np.ndarray, k: int) -> tuple[float, np.ndarray, float]:
    """Multi-class gradient boosting, which shap's sklearn reader refuses: class k's trees in
    shap's documented dictionary form (each step's values times the learning rate)."""
    import shap

    trees = []
    for est in model.estimators_[:, k]:
        t = est.tree_
        trees.append({
            "children_left": t.children_left.copy(), "children_right": t.children_right.copy(),
            "children_default": t.children_left.copy(), "features": t.feature.copy(),
            "thresholds": t.threshold.copy(), "values": t.value[:, 0, :] * model.learning_rate,
            "node_sample_weight": t.weighted_n_node_samples.copy()})
    # The raw score starts at the prior's log-odds, the same for every window: what the
    # trees do not add.
    steps = sum(model.learning_rate * est.predict(xs)[0] for est in model.estimators_[:, k])
    offset = float(model.decision_function(xs)[0, k] - steps)
    explainer = shap.TreeExplainer({"trees": trees, "base_offset": offset})
    contrib = np.asarray(explainer.shap_values(xs))[0].astype(np.float64)
    return float(np.ravel(explainer.expected_value)[0]), contrib, \
        float(model.decision_function(xs)[0, k])


def _linear(model, xs: np.ndarray, k: int) -> tuple[float, np.ndarray, float]:
    """Exact SHAP of a linear model against the training mean, which standardisation put at
    zero: coefficient times the standardised value."""
    coef = np.atleast_2d(model.coef_)
    intercept = np.atleast_1d(model.intercept_)
    row = k if coef.shape[0] > 1 else 0
    raw = model.decision_function(xs) if hasattr(model, "predict_proba") else model.predict(xs)
    output = float(np.ravel(raw)[row])
    return float(intercept[row]), (coef[row] * xs[0]).astype(np.float64), output
