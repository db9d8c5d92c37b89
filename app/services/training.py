"""Train, validate and export: dataset snapshot -> features -> model -> ONNX -> parity gate ->
registered version, with the reports and golden data a package needs."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.errors import IntegrityError, UsageError
from app.core.model_version import ModelVersion
from app.core.principal import Principal
from app.core.progress import (
    NEVER_CANCELLED,
    CancelToken,
    ProgressFn,
    no_progress,
    sub_progress,
)
from app.core.records import DatasetInfo
from app.core.roles import Action
from app.features.spec import FeatureSpec
from app.ml.dataset import Recording
from app.ml.labels import labelled_recordings
from app.ml.recipe import Recipe
from app.services.base import ServiceContext
from app.services.datasets import DatasetService
from app.services.registry import RegistryService
from app.store.durable import durable_write

KIND_OF_TASK = {"classification": "classifier", "regression": "regressor",
                "anomaly": "anomaly"}


@dataclass(frozen=True)
class TrainOutcome:
    """The registered version and the two reports that decide whether it may be deployed."""

    version: ModelVersion
    validation: dict
    parity: dict


class TrainingService:
    """The ML steps of the loop, each audited through the registry and the audit trail."""

    def __init__(self, ctx: ServiceContext, datasets: DatasetService,
                 registry: RegistryService) -> None:
        self.ctx = ctx
        self.datasets = datasets
        self.registry = registry

    def train(self, principal: Principal, *, dataset: str, line: str, recipe: Recipe,
              window: int = 2048, hop: int = 1024, channels: list[str] | None = None,
              progress: ProgressFn = no_progress,
              cancel: CancelToken = NEVER_CANCELLED) -> TrainOutcome:
        """Train ``recipe`` on the labelled snapshot and register the result as the line's
        next version: validated if it passes the parity gate, a draft with the reason if not.
        Re-running the same recipe on the same snapshot reproduces the metrics."""
        # scikit-learn, skl2onnx and onnxruntime load here, not at start-up.
        from app.ml import evaluate, export_onnx, golden_set, lineage, parity_gate, train
        from app.ml.dataset import window_set

        self.ctx.authorize(principal, Action.MODEL_TRAIN, f"model:{line}")
        shown = self.datasets.show(principal, dataset=dataset)
        spec = FeatureSpec.default(shown.sample_rate, channels=tuple(_channels(shown, channels)),
                                   window=window, hop=hop)
        info, recordings = self._recordings(principal, dataset, spec)
        progress(0.02, "extracting features")
        data = window_set(recordings, spec, progress=sub_progress(progress, 0.02, 0.3),
                          cancel=cancel)
        model = train(data, recipe, progress=sub_progress(progress, 0.3, 0.6), cancel=cancel)
        report = evaluate(model, data, n_repeats=3, dataset_hash=info.dataset_id,
                          progress=sub_progress(progress, 0.6, 0.8), cancel=cancel)
        progress(0.8, "exporting to ONNX")
        exported = export_onnx(model)
        held_out = data.raw(model.test_idx)
        progress(0.85, "parity gate")
        golden_in, golden_out = golden_set(exported, held_out)
        parity = parity_gate(model, exported, held_out, golden_inputs=golden_in, cancel=cancel)
        cancel.raise_if_cancelled()
        buf = io.BytesIO()
        np.save(buf, golden_in)
        validation = report.to_dict()
        artifacts = {
            "model.onnx": exported.onnx_bytes,
            "validation_report.json": _json(validation),
            "parity_report.json": _json(parity.to_dict()),
            "model_card.md": report.model_card.encode("utf-8"),
            "golden_inputs.npy": buf.getvalue(),
            "golden_outputs.json": _json({k: v.tolist() for k, v in golden_out.items()}),
            "schema.json": _json(exported.schema.to_dict()),
        }
        progress(0.95, "registering the version")
        version = self.registry.register(
            principal, line=line, kind=KIND_OF_TASK[recipe.task], dataset_id=info.dataset_id,
            feature_spec=spec.to_dict(), recipe=recipe.to_dict(),
            metrics=_headline(validation), lineage=lineage(model, info.dataset_id, exported),
            artifacts=artifacts, parity_passed=parity.deployable,
            blocked_reason="; ".join(parity.reasons))
        progress(1.0, "done")
        return TrainOutcome(version=version, validation=validation, parity=parity.to_dict())

    def evaluate(self, principal: Principal, *, ref: str, dataset: str,
                 progress: ProgressFn = no_progress,
                 cancel: CancelToken = NEVER_CANCELLED) -> dict:
        """Run a registered version's ONNX model on every window of a labelled snapshot (as
        the controller would) and report accuracy and the confusion matrix; audited."""
        from app.ml.checks import session

        version = self.registry.show(principal, ref=ref)
        spec = FeatureSpec.from_dict(dict(version.feature_spec))
        schema = json.loads(self.registry.artifact(principal, ref=ref, name="schema.json"))
        classes = schema.get("classes", [])
        info, recordings = self._recordings(principal, dataset, spec)
        sess = session(self.registry.artifact(principal, ref=ref, name="model.onnx"))
        truth, predicted = [], []
        for k, rec in enumerate(recordings):
            cancel.raise_if_cancelled()
            progress(k / len(recordings), f"evaluating {rec.id}")
            n = (rec.signal.shape[1] - spec.window) // spec.hop + 1
            if n <= 0:
                continue
            idx = np.arange(n) * spec.hop
            windows = np.stack([rec.signal[:, s:s + spec.window] for s in idx]).astype(
                np.float32)
            label = sess.run(None, {"window": windows})[0]
            predicted.extend(classes[int(i)] if classes else float(i) for i in label)
            truth.extend(rec.window_labels if rec.window_labels is not None
                         else [rec.label] * n)
        correct = sum(t == p for t, p in zip(truth, predicted, strict=True))
        names = sorted(set(truth) | set(predicted), key=str)
        matrix = [[sum(1 for t, p in zip(truth, predicted, strict=True) if t == a and p == b)
                   for b in names] for a in names]
        result = {"ref": ref, "dataset": info.dataset_id, "windows": len(truth),
                  "accuracy": correct / len(truth) if truth else None, "labels": names,
                  "confusion": matrix}
        self.ctx.audit_outcome(principal, "", "model.evaluate", f"model:{ref}", result="ok",
                               new={"dataset": info.dataset_id, "windows": len(truth),
                                    "accuracy": result["accuracy"]})
        return result

    def export(self, principal: Principal, *, ref: str, out: Path) -> Path:
        """Write the version's ONNX model to ``out``; only a version that passed the parity
        gate can be exported as deployable."""
        role = self.ctx.authorize(principal, Action.PACKAGE_BUILD_DRAFT, f"model:{ref}")
        version = self.registry.show(principal, ref=ref)
        if not version.parity.passed:
            reason = version.parity.blocked_reason
            self.ctx.audit_outcome(principal, role.value, "model.export", f"model:{ref}",
                                   result="refused", reason=reason)
            raise IntegrityError(f"{ref} failed the parity gate and cannot be exported as "
                                 f"deployable: {reason}")
        data = self.registry.artifact(principal, ref=ref, name="model.onnx")
        durable_write(Path(out), data)
        self.ctx.audit_outcome(principal, role.value, "model.export", f"model:{ref}",
                               result="ok", new={"file": str(out),
                                                 "sha256": version.artifacts["model.onnx"]})
        return Path(out)

    def _recordings(self, principal: Principal, dataset: str, spec: FeatureSpec
                    ) -> tuple[DatasetInfo, list[Recording]]:
        """The snapshot's labelled data on the spec's channels (see
        :func:`app.ml.labels.labelled_recordings`)."""
        info, arrays = self.datasets.load(principal, dataset=dataset)
        return info, labelled_recordings(info, arrays, spec)


def _channels(info: DatasetInfo, channels: list[str] | None) -> list[str]:
    names = [c.name for c in info.channels]
    wanted = list(channels) if channels else names[:1]
    unknown = [c for c in wanted if c not in names]
    if unknown:
        raise UsageError(f"dataset {info.dataset_id[:12]} has no channel {unknown[0]!r}; it has "
                         f"{', '.join(names)}")
    return wanted


def _headline(validation: dict) -> dict:
    metrics = validation["metrics"]
    keep = ("accuracy", "balanced_accuracy", "mae", "rmse", "r2", "precision", "recall")
    return {k: metrics[k] for k in keep if k in metrics}


def _json(value: object) -> bytes:
    return json.dumps(value, indent=1, sort_keys=True, default=_plain).encode("utf-8")


def _plain(value: object):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot store {type(value).__name__} in a report")


