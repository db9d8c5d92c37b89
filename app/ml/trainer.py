"""Fit a recipe's estimator on a window set's training split, with progress and cancel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import InvalidParameterError

from app.core.errors import UsageError
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.features.extraction import extract_windows
from app.features.spec import FeatureSpec
from app.features.validity import Validity, ValidityLimits, check_windows, sanitized
from app.ml.dataset import WindowSet
from app.ml.models import build_estimator
from app.ml.recipe import Recipe
from app.ml.splits import make_split

_TREE_CHUNK = 10  # trees per warm-start step: progress and cancel between steps
INVALID_LABEL = -1  # the label output of a window whose input is invalid


@dataclass
class TrainedModel:
    """A fitted pipeline with what it needs to be evaluated, exported and traced."""

    spec: FeatureSpec
    recipe: Recipe
    pipeline: Pipeline
    classes: tuple[str, ...]  # classification: label names, index = encoded label
    train_idx: np.ndarray
    test_idx: np.ndarray
    validity: ValidityLimits  # input checks, the training envelope included
    n_excluded: int = 0  # windows of the split left out as invalid input

    @property
    def task(self) -> str:
        """classification, regression or anomaly."""
        return self.recipe.task

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Python-side prediction: class index, value, or 1 = anomaly / 0 = normal."""
        out = self.pipeline.predict(features)
        if self.task == "anomaly":
            return (out == -1).astype(np.int64)
        return out

    def scores(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities [n, K], value [n, 1], or anomaly decision score [n, 1]."""
        if self.task == "classification":
            return self.pipeline.predict_proba(features)
        if self.task == "regression":
            return self.pipeline.predict(features).reshape(-1, 1)
        return self.pipeline.decision_function(features).reshape(-1, 1)

    def check(self, windows: np.ndarray) -> Validity:
        """Input validity of raw windows (n, channels, window), as the ONNX graph checks."""
        return check_windows(windows, self.validity)

    def run_windows(self, windows: np.ndarray) -> dict[str, np.ndarray]:
        """The Python pipeline on raw windows, with the ONNX model's outputs: features (of the
        sanitised windows), input_ok, input_reason, input_level and label (-1 where the
        input is invalid) with scores (0 there), or value for regression."""
        v = self.check(windows)
        feats = extract_windows(sanitized(windows, v), self.spec)
        out = {"features": feats, "input_ok": v.ok, "input_reason": v.reason,
               "input_level": v.level}
        if self.task == "regression":
            out["value"] = self.scores(feats)
            return out
        label, scores = self.predict(feats).astype(np.int64), self.scores(feats)
        label[~v.ok] = INVALID_LABEL
        scores[~v.ok] = 0.0
        out.update(label=label, scores=scores)
        return out


def encode_targets(task: str, labels: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
    """Targets the estimator is fitted on, and class names for classification."""
    if task == "classification":
        names = np.array([str(v) for v in labels])
        classes = tuple(sorted(set(names.tolist())))
        if len(classes) < 2:
            raise UsageError(f"classification needs at least two labels, got {list(classes)}")
        return np.searchsorted(np.array(classes), names).astype(np.int64), classes
    if task == "regression":
        try:
            y = np.asarray(labels, dtype=np.float64)
        except (TypeError, ValueError):
            raise UsageError("regression targets must be numbers") from None
        if not np.isfinite(y).all():
            raise UsageError("regression targets hold NaN or infinite values")
        return y, ()
    # anomaly: labels are optional truth (1/True = anomaly); fitting uses normals only.
    y = np.array([bool(v) if v is not None else False for v in labels])
    return y.astype(np.int64), ()


def _fit(pipe: Pipeline, x: np.ndarray, y: np.ndarray | None, progress: ProgressFn,
         cancel: CancelToken) -> None:
    model = pipe.named_steps["model"]
    n_trees = getattr(model, "n_estimators", None)
    if n_trees is None or not hasattr(model, "warm_start"):
        cancel.raise_if_cancelled()
        pipe.fit(x, y)
        return
    # Ensembles grow in chunks with warm_start; sklearn continues the same
    # random stream, so the result is identical to one fit with all the trees
    # (tests/ml/test_train.py checks forests and boosting).
    xt = pipe[:-1].fit_transform(x, y) if len(pipe.steps) > 1 else x
    model.set_params(warm_start=True)
    for n in range(min(_TREE_CHUNK, n_trees), n_trees + _TREE_CHUNK, _TREE_CHUNK):
        cancel.raise_if_cancelled()
        model.set_params(n_estimators=min(n, n_trees))
        model.fit(xt, y)
        progress(0.1 + 0.85 * min(n, n_trees) / n_trees, f"{min(n, n_trees)}/{n_trees} trees")
    model.set_params(warm_start=False)


def train(data: WindowSet, recipe: Recipe, progress: ProgressFn = no_progress,
          cancel: CancelToken = NEVER_CANCELLED) -> TrainedModel:
    """Split ``data`` leakage-safely per ``recipe.split`` and fit on the training part."""
    x = np.asarray(data.features, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != data.spec.n_features or len(x) != len(data.labels):
        raise UsageError(f"features {x.shape} do not match the spec's {data.spec.n_features} "
                         f"columns or the {len(data.labels)} labels")
    progress(0.0, "splitting")
    y, classes = encode_targets(recipe.task, data.labels)
    strat = y if recipe.task == "classification" else None
    train_idx, test_idx = make_split(recipe.split, data.recording_ids, data.starts,
                                     data.spec.window, strat)
    # Invalid input (non-finite, flat, clipped windows) is not a machine state: a model
    # taught that a dead sensor is "normal" would say so in the plant.
    n_split = len(train_idx) + len(test_idx)
    train_idx, test_idx = train_idx[data.valid[train_idx]], test_idx[data.valid[test_idx]]
    if len(train_idx) == 0 or len(test_idx) == 0:
        raise UsageError(f"after leaving out invalid input windows the split has "
                         f"{len(train_idx)} training and {len(test_idx)} test windows")
    speed = data.spec.kinematics.speed_channel if data.spec.kinematics else ""
    limits = ValidityLimits.from_training(data.spec.channels, data.levels[train_idx],
                                          data.spreads[train_idx], speed, recipe.validity)
    if recipe.task == "classification":
        missing = sorted(set(range(len(classes))) - set(y[train_idx].tolist()))
        if missing:
            raise UsageError(f"class(es) {[classes[i] for i in missing]} have no training "
                             f"windows after the split")
    fit_idx = train_idx[y[train_idx] == 0] if recipe.task == "anomaly" else train_idx
    if len(fit_idx) == 0:
        raise UsageError("no normal windows to fit the anomaly detector on")
    pipe = build_estimator(recipe)
    progress(0.1, f"fitting {recipe.model} on {len(fit_idx)} windows")
    try:
        _fit(pipe, x[fit_idx], y[fit_idx] if recipe.task != "anomaly" else None, progress,
             cancel)
    except InvalidParameterError as exc:
        raise UsageError(f"bad hyper-parameters for {recipe.model}: {exc}") from None
    progress(1.0, "trained")
    return TrainedModel(spec=data.spec, recipe=recipe, pipeline=pipe, classes=classes,
                        train_idx=train_idx, test_idx=test_idx, validity=limits,
                        n_excluded=n_split - len(train_idx) - len(test_idx))


def refit_on(model: TrainedModel, data: WindowSet, train_idx: np.ndarray,
             cancel: CancelToken = NEVER_CANCELLED) -> TrainedModel:
    """The same recipe fitted on other training windows (for held-out conditions), with
    input checks from those windows; class indices stay those of ``model``."""
    recipe = model.recipe
    y, _ = encode_targets(recipe.task, data.labels)
    idx = np.asarray(train_idx)[data.valid[np.asarray(train_idx)]]
    fit_idx = idx[y[idx] == 0] if recipe.task == "anomaly" else idx
    if len(fit_idx) == 0:
        raise UsageError("no valid windows to fit on")
    pipe = build_estimator(recipe)
    cancel.raise_if_cancelled()
    x = np.asarray(data.features, dtype=np.float64)
    pipe.fit(x[fit_idx], y[fit_idx] if recipe.task != "anomaly" else None)
    speed = data.spec.kinematics.speed_channel if data.spec.kinematics else ""
    limits = ValidityLimits.from_training(data.spec.channels, data.levels[idx],
                                          data.spreads[idx], speed, recipe.validity)
    return TrainedModel(spec=data.spec, recipe=recipe, pipeline=pipe, classes=model.classes,
                        train_idx=idx, test_idx=np.zeros(0, dtype=np.intp), validity=limits)
