"""Validation of a trained model on its held-out windows: metrics, importance, reference stats."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from app.core.progress import (
    NEVER_CANCELLED,
    CancelToken,
    ProgressFn,
    no_progress,
    sub_progress,
)
from app.ml.card import model_card
from app.ml.dataset import WindowSet
from app.ml.refstats import reference_stats
from app.ml.report import (
    AnomalyMetrics,
    ClassificationMetrics,
    Importance,
    RegressionMetrics,
    ValidationReport,
)
from app.ml.trainer import TrainedModel, encode_targets


def task_metrics(model: TrainedModel, x: np.ndarray, y: np.ndarray
                 ) -> ClassificationMetrics | RegressionMetrics | AnomalyMetrics:
    """Metrics of the model's predictions for features x against encoded targets y."""
    pred = model.predict(x)
    if model.task == "classification":
        k = len(model.classes)
        f1 = skm.f1_score(y, pred, labels=range(k), average=None, zero_division=0)
        return ClassificationMetrics(
            classes=list(model.classes), accuracy=float(skm.accuracy_score(y, pred)),
            balanced_accuracy=float(skm.balanced_accuracy_score(y, pred)),
            f1={c: float(v) for c, v in zip(model.classes, f1, strict=True)},
            confusion=skm.confusion_matrix(y, pred, labels=range(k)).tolist())
    if model.task == "regression":
        return RegressionMetrics(
            mae=float(skm.mean_absolute_error(y, pred)),
            rmse=float(np.sqrt(skm.mean_squared_error(y, pred))),
            r2=float(skm.r2_score(y, pred)))
    flagged, truth = pred == 1, y == 1
    hits = int((flagged & truth).sum())
    return AnomalyMetrics(
        threshold=0.0,  # sklearn's rule: decision_function < 0 is an anomaly
        precision=hits / int(flagged.sum()) if flagged.any() else None,
        recall=hits / int(truth.sum()) if truth.any() else None,
        n_flagged=int(flagged.sum()), n_anomalies=int(truth.sum()))


def _score(model: TrainedModel, x: np.ndarray, y: np.ndarray) -> float:
    """Higher is better: accuracy, R squared, or mean anomaly score gap (no labels needed)."""
    if model.task == "classification":
        return float(np.mean(model.predict(x) == y))
    if model.task == "regression":
        return float(skm.r2_score(y, model.predict(x)))
    return float(np.mean(model.scores(x)))


def permutation_importance(model: TrainedModel, x: np.ndarray, y: np.ndarray,
                           names: tuple[str, ...], n_repeats: int, seed: int,
                           progress: ProgressFn, cancel: CancelToken) -> Importance:
    """Drop of the score when one column is shuffled, per column; cancellable."""
    rng = np.random.default_rng(seed)
    base = _score(model, x, y)
    means, stds = {}, {}
    work = x.copy()
    for j, name in enumerate(names):
        cancel.raise_if_cancelled()
        progress(j / len(names), f"importance of {name}")
        drops = []
        for _ in range(n_repeats):
            work[:, j] = x[rng.permutation(len(x)), j]
            drops.append(base - _score(model, work, y))
        work[:, j] = x[:, j]
        means[name], stds[name] = float(np.mean(drops)), float(np.std(drops))
    scoring = {"classification": "accuracy", "regression": "r2"}.get(model.task, "mean score")
    return Importance(scoring=scoring, n_repeats=n_repeats, mean=means, std=stds)


def evaluate(model: TrainedModel, data: WindowSet, *, n_repeats: int = 3,
             dataset_hash: str = "", progress: ProgressFn = no_progress,
             cancel: CancelToken = NEVER_CANCELLED) -> ValidationReport:
    """Validate on the model's test windows of ``data`` (the set it was trained from)."""
    x = np.asarray(data.features, dtype=np.float64)
    y, _ = encode_targets(model.task, data.labels)
    xt, yt = x[model.test_idx], y[model.test_idx]
    progress(0.0, "metrics")
    cancel.raise_if_cancelled()
    metrics = task_metrics(model, xt, yt)
    names = data.feature_names
    importance = permutation_importance(
        model, xt, yt, names, n_repeats, model.recipe.seed,
        sub_progress(progress, 0.05, 0.95), cancel)
    reference = reference_stats(x[model.train_idx], names)
    report = ValidationReport(
        task=model.task, model=model.recipe.model, recipe=model.recipe.to_dict(),
        feature_spec_hash=model.spec.spec_hash(), n_train=len(model.train_idx),
        n_test=len(model.test_idx), metrics=metrics, importance=importance,
        reference=reference)
    card = model_card(model, report, dataset_hash)
    progress(1.0, "validated")
    return ValidationReport(**{**report.__dict__, "model_card": card})
