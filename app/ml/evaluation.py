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
from app.ml.export import ExportedModel, export_onnx
from app.ml.refstats import class_reference, level_names, reference_stats
from app.ml.report import (
    AnomalyMetrics,
    ClassificationMetrics,
    Importance,
    RegressionMetrics,
    ValidationReport,
)
from app.ml.robustness import robustness_report
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


def _groups(model: TrainedModel, y: np.ndarray) -> np.ndarray:
    """Reference group of each encoded target: class name, normal/anomaly, or all."""
    if model.task == "classification":
        return np.asarray(model.classes, dtype=object)[y]
    if model.task == "anomaly":
        return np.where(y == 1, "anomaly", "normal").astype(object)
    return np.full(len(y), "all", dtype=object)


def operating_envelope(model: TrainedModel, data: WindowSet) -> dict:
    """What training saw: each channel's level range, the speeds and the conditions."""
    idx = model.train_idx
    spec, kin = model.spec, model.spec.kinematics
    levels = data.levels[idx]
    out: dict[str, object] = {"channels": {ch: {"level_min": float(levels[:, j].min()),
                             "level_max": float(levels[:, j].max())}
                        for j, ch in enumerate(spec.channels)},
           "conditions": sorted({str(c) for c in data.conditions[idx] if str(c)})}
    if kin is not None and kin.speed_channel:
        j = spec.channels.index(kin.speed_channel)
        out["speed_rpm"] = [float(levels[:, j].min()), float(levels[:, j].max())]
        out["speed_source"] = f"channel {kin.speed_channel}"
    elif kin is not None:
        out["speed_rpm"] = [kin.rpm, kin.rpm]
        out["speed_source"] = "nominal (recipe)"
    return out


def evaluate(model: TrainedModel, data: WindowSet, *, n_repeats: int = 3,
             dataset_hash: str = "", exported: ExportedModel | None = None,
             inputs: dict[str, dict[str, str]] | None = None, robustness: bool = True,
             progress: ProgressFn = no_progress,
             cancel: CancelToken = NEVER_CANCELLED) -> ValidationReport:
    """Validate on the model's test windows of ``data`` (the set it was trained from).

    Besides the metrics: per-class reference statistics for drift, the operating
    envelope, and (``robustness``) the robustness table through onnxruntime on
    ``exported`` (exported here when not given) with the held-out conditions.
    ``inputs`` gives each channel's physical unit and scale for the card.
    """
    x = np.asarray(data.features, dtype=np.float64)
    y, _ = encode_targets(model.task, data.labels)
    xt, yt = x[model.test_idx], y[model.test_idx]
    progress(0.0, "metrics")
    cancel.raise_if_cancelled()
    metrics = task_metrics(model, xt, yt)
    names = data.feature_names
    importance = permutation_importance(
        model, xt, yt, names, n_repeats, model.recipe.seed,
        sub_progress(progress, 0.05, 0.5), cancel)
    tr = model.train_idx
    reference = reference_stats(x[tr], names)
    by_class = class_reference(x[tr], data.levels[tr], _groups(model, y[tr]), names,
                               model.spec.channels)
    robust = None
    if robustness:
        exported = exported or export_onnx(model)
        robust = robustness_report(model, exported, data,
                                   progress=sub_progress(progress, 0.5, 0.95),
                                   cancel=cancel).to_dict()
    report = ValidationReport(
        task=model.task, model=model.recipe.model, recipe=model.recipe.to_dict(),
        feature_spec_hash=model.spec.spec_hash(), n_train=len(model.train_idx),
        n_test=len(model.test_idx), metrics=metrics, importance=importance,
        reference=reference, class_reference=by_class,
        monitored=level_names(model.spec.channels),
        validity=model.validity.to_dict() if model.validity else None,
        envelope=operating_envelope(model, data), robustness=robust,
        n_excluded=model.n_excluded, inputs=dict(inputs or {}))
    card = model_card(model, report, dataset_hash)
    progress(1.0, "validated")
    return ValidationReport(**{**report.__dict__, "model_card": card})
