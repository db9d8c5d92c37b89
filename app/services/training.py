"""Train, validate and export: dataset snapshot -> features -> model -> ONNX -> parity gate ->
registered version, with the reports and golden data a package needs."""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from app.core.errors import IntegrityError, UsageError
from app.core.model_version import ModelVersion, ValidationEvidence
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
from app.features.validity import describe
from app.ml.card import with_labels
from app.ml.dataset import Recording
from app.ml.labels import (
    LABEL_RULE,
    LEFT_OUT,
    ClassWindows,
    LabelPlan,
    drop_left_out,
    label_plan,
    labelled_recordings,
    split_text,
)
from app.ml.recipe import Recipe
from app.services.base import ServiceContext
from app.services.datasets import DatasetService
from app.services.registry import RegistryService
from app.store.durable import durable_write

KIND_OF_TASK = {"classification": "classifier", "regression": "regressor",
                "anomaly": "anomaly"}
INVALID_INPUT = "invalid input"  # what evaluate reports for a window with label -1
_EVAL_BATCH = 512  # windows per onnxruntime call in evaluate (bounded memory)

__all__ = ["INVALID_INPUT", "LABEL_RULE", "LabelPlan", "TrainOutcome", "TrainingService"]


@dataclass(frozen=True)
class TrainOutcome:
    """The registered version, the two reports that decide whether it may be deployed, and
    what the label rule made of the dataset (``labels.summary()`` says it in words)."""

    version: ModelVersion
    validation: dict
    parity: dict
    labels: LabelPlan | None = None

    @property
    def evidence(self) -> ValidationEvidence:
        """The validation report, typed (robustness, inputs, labels)."""
        return ValidationEvidence.from_report(self.validation)


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
        from app.ml.pipeline_file import PIPELINE_ARTIFACT, pipeline_bytes

        self.ctx.authorize(principal, Action.MODEL_TRAIN, f"model:{line}")
        shown = self.datasets.show(principal, dataset=dataset)
        wanted = _channels(shown, channels)
        speed = (recipe.kinematics or {}).get("speed_channel") or ""
        if speed and speed not in wanted:  # the speed channel is read, not analysed
            wanted = wanted + _channels(shown, [speed])
        spec = FeatureSpec.default(shown.sample_rate, channels=tuple(wanted), window=window,
                                   hop=hop, kinematics=recipe.kinematics_for(tuple(wanted)),
                                   absolute=recipe.absolute_features)
        units = {c.name: {"unit": c.unit, "scale": c.scale} for c in shown.channels
                 if c.name in wanted}
        plan = label_plan(shown, spec, recipe.split, recipe.task)
        plan.raise_for_problems()  # before a sample is read
        info, recordings = self._recordings(principal, dataset, spec)
        progress(0.02, "extracting features")
        data = window_set(recordings, spec, progress=sub_progress(progress, 0.02, 0.3),
                          cancel=cancel)
        data, _n_left_out = drop_left_out(data)
        model = train(data, recipe, progress=sub_progress(progress, 0.3, 0.55),
                      cancel=cancel)
        _check_held_out(model, data)
        plan = _as_trained(plan, model, data)
        progress(0.55, "exporting to ONNX")
        exported = export_onnx(model)
        report = evaluate(model, data, n_repeats=3, dataset_hash=info.dataset_id,
                          exported=exported, inputs=units,
                          progress=sub_progress(progress, 0.56, 0.85), cancel=cancel)
        held_out = data.raw(model.test_idx)
        progress(0.85, "parity gate")
        golden_in, golden_out = golden_set(exported, held_out)
        parity = parity_gate(model, exported, held_out, golden_inputs=golden_in, cancel=cancel)
        cancel.raise_if_cancelled()
        buf = io.BytesIO()
        np.save(buf, golden_in)
        card = with_labels(report.model_card, plan.rule, plan.summary().splitlines()[1:])
        validation = dict(report.to_dict(), model_card=card, labels=plan.to_dict())
        artifacts = {
            "model.onnx": exported.onnx_bytes,
            "validation_report.json": _json(validation),
            "parity_report.json": _json(parity.to_dict()),
            "model_card.md": card.encode("utf-8"),
            "golden_inputs.npy": buf.getvalue(),
            "golden_outputs.json": _json({k: v.tolist() for k, v in golden_out.items()}),
            "schema.json": _json(exported.schema.to_dict()),
            # Kept for explanations; not packaged (the controller runs model.onnx).
            PIPELINE_ARTIFACT: pipeline_bytes(model.pipeline),
        }
        progress(0.95, "registering the version")
        version = self.registry.register(
            principal, line=line, kind=KIND_OF_TASK[recipe.task], dataset_id=info.dataset_id,
            feature_spec=spec.to_dict(), recipe=recipe.to_dict(),
            metrics=_headline(validation), lineage=lineage(model, info.dataset_id, exported),
            artifacts=artifacts, parity_passed=parity.deployable,
            blocked_reason="; ".join(parity.reasons))
        progress(1.0, "done")
        return TrainOutcome(version=version, validation=validation, parity=parity.to_dict(),
                            labels=plan)

    def label_plan(self, principal: Principal, *, dataset: str, recipe: Recipe | None = None,
                   window: int = 2048, hop: int = 1024) -> LabelPlan:
        """What the label rule (LABEL_RULE) and the recipe's split make of the dataset's
        labels, without reading a sample: windows per class for training and held out, the
        windows across range edges left out, and why training would refuse. The Train page
        shows ``.summary()``; training applies exactly this."""
        recipe = recipe or Recipe()
        shown = self.datasets.show(principal, dataset=dataset)
        spec = FeatureSpec.default(shown.sample_rate, channels=tuple(_channels(shown, None)[:1]),
                                   window=window, hop=hop)
        return label_plan(shown, spec, recipe.split, recipe.task)

    def evaluate(self, principal: Principal, *, ref: str, dataset: str,
                 progress: ProgressFn = no_progress,
                 cancel: CancelToken = NEVER_CANCELLED) -> dict:
        """Run a registered version's ONNX model on every window of a labelled snapshot (as
        the controller would); audited.

        A window the model reports as invalid input (label -1: a dead sensor, NaN samples,
        clipping, a level or speed outside the training envelope) is no machine state: it
        is counted under its reason ("invalid input: flat line ...") and kept out of the
        accuracy and the confusion matrix. Windows across a labelled range's edge are left
        out as in training. Keys: ref, dataset, windows (all evaluated), valid_windows,
        invalid_windows, invalid_reasons {reason: count}, left_out, accuracy (of the valid
        windows; None if none), labels, confusion (rows: truth), mae (regression).
        """
        from app.ml.checks import session

        version = self.registry.show(principal, ref=ref)
        spec = FeatureSpec.from_dict(dict(version.feature_spec))
        schema = json.loads(self.registry.artifact(principal, ref=ref, name="schema.json"))
        classes = schema.get("classes", [])
        info, recordings = self._recordings(principal, dataset, spec)
        sess = session(self.registry.artifact(principal, ref=ref, name="model.onnx"))
        outputs = [o.name for o in sess.get_outputs()]
        truth, predicted, left_out = [], [], 0
        reasons: Counter[str] = Counter()
        for k, rec in enumerate(recordings):
            cancel.raise_if_cancelled()
            progress(k / len(recordings), f"evaluating {rec.id}")
            n = (rec.signal.shape[1] - spec.window) // spec.hop + 1
            want = list(rec.window_labels) if rec.window_labels is not None else [rec.label] * n
            for a in range(0, max(n, 0), _EVAL_BATCH):
                idx = np.arange(a, min(n, a + _EVAL_BATCH)) * spec.hop
                windows = np.stack([rec.signal[:, s:s + spec.window] for s in idx]).astype(
                    np.float32)
                out = dict(zip(outputs, sess.run(None, {"window": windows}), strict=True))
                got = out["label"] if "label" in out else out["value"][:, 0]
                bits = out.get("input_reason", np.zeros(len(idx), dtype=np.int64))
                for j, value in enumerate(got):
                    expected = want[a + j]
                    if expected is LEFT_OUT:
                        left_out += 1
                    elif int(bits[j]) or ("label" in out and int(value) < 0):
                        # Invalid input is a sensor fault, never a machine state.
                        reasons[f"{INVALID_INPUT}: {describe(int(bits[j])) or 'unknown'}"] += 1
                    else:
                        truth.append(expected)
                        predicted.append(classes[int(value)] if "label" in out and classes
                                         else float(value))
        result = _scores(truth, predicted, regression="label" not in outputs)
        n_invalid = sum(reasons.values())
        result.update(ref=ref, dataset=info.dataset_id, windows=len(truth) + n_invalid,
                      valid_windows=len(truth), invalid_windows=n_invalid,
                      invalid_reasons=dict(sorted(reasons.items())), left_out=left_out)
        self.ctx.audit_outcome(principal, "", "model.evaluate", f"model:{ref}", result="ok",
                               new={"dataset": info.dataset_id, "windows": result["windows"],
                                    "invalid_windows": n_invalid,
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


def _scores(truth: list, predicted: list, regression: bool) -> dict:
    """Accuracy and confusion matrix (rows: truth), or the MAE of a regressor."""
    if regression:
        err = [abs(float(t) - p) for t, p in zip(truth, predicted, strict=True)]
        return {"accuracy": None, "mae": float(np.mean(err)) if err else None, "labels": [],
                "confusion": []}
    correct = sum(t == p for t, p in zip(truth, predicted, strict=True))
    names = sorted(set(truth) | set(predicted), key=str)
    pairs = Counter(zip(truth, predicted, strict=True))
    return {"accuracy": correct / len(truth) if truth else None, "labels": names,
            "confusion": [[pairs[(a, b)] for b in names] for a in names]}


def _as_trained(plan: LabelPlan, model, data) -> LabelPlan:
    """The plan with the windows per class the model was trained and tested on (invalid
    input, found only in the samples, left out)."""
    if model.task != "classification":
        return plan
    tr = Counter(str(v) for v in data.labels[model.train_idx])
    te = Counter(str(v) for v in data.labels[model.test_idx])
    return replace(plan, classes=tuple(ClassWindows(c, tr[c] + te[c], tr[c], te[c])
                                       for c in model.classes))


def _check_held_out(model, data) -> None:
    """Refuse a class the split left no valid held-out window of (it cannot be tested)."""
    if model.task != "classification":
        return
    held = {str(v) for v in data.labels[model.test_idx]}
    missing = [c for c in model.classes if c not in held]
    if missing:
        split = split_text(model.recipe.split, model.spec.window)
        raise UsageError(f"class {missing[0]} has no held-out windows under the split "
                         f"({split}) once invalid-input windows are left out, so it cannot be "
                         "tested: label more of it, or split by recording")


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


