"""Champion against challenger on the same held-out windows, through each one's ONNX model (as
the controller would run it): accuracy, per-class recall and confusion matrices, overall and on
the windows from the new data that led to the challenger."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from app.core.errors import UsageError

INVALID = "invalid input"
_BATCH = 512  # windows per onnxruntime call (bounded memory)


def predicted_names(onnx_bytes: bytes, classes: Sequence[str], windows: np.ndarray) -> list[str]:
    """Each window's class name by the model, or INVALID where its input checks refuse it."""
    from app.ml.checks import session

    sess = session(onnx_bytes)
    names = [o.name for o in sess.get_outputs()]
    if "label" not in names:
        raise UsageError("champion and challenger are compared for classifiers only")
    out: list[str] = []
    for a in range(0, len(windows), _BATCH):
        batch = np.asarray(windows[a:a + _BATCH], dtype=np.float32)
        got = dict(zip(names, sess.run(None, {"window": batch}), strict=True))
        ok = got.get("input_ok", np.ones(len(batch), dtype=bool))
        for label, valid in zip(got["label"], ok, strict=True):
            out.append(classes[int(label)] if valid and int(label) >= 0 else INVALID)
    return out


def scores(truth: Sequence[str], predicted: Sequence[str], new: np.ndarray,
           labels: Sequence[str]) -> dict:
    """Accuracy (all windows, the new ones, the old ones), invalid count, recall per true
    class and the confusion matrix (rows: truth; columns: ``labels``)."""
    t, p = np.asarray(truth, dtype=object), np.asarray(predicted, dtype=object)
    hit = t == p

    def share(mask: np.ndarray) -> float | None:
        return float(hit[mask].mean()) if mask.any() else None

    index = {name: i for i, name in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    for a, b in zip(t, p, strict=True):
        confusion[index[a], index[b]] += 1
    per_class = {str(c): {"n": int((t == c).sum()), "recall": share(t == c)}
                 for c in sorted(set(t.tolist()), key=str)}
    return {"accuracy": share(np.ones(len(t), dtype=bool)), "accuracy_new": share(new),
            "accuracy_old": share(~new), "invalid": int((p == INVALID).sum()),
            "per_class": per_class, "confusion": confusion.tolist()}


def compare(windows: np.ndarray, truth: Sequence[str], new: np.ndarray,
            models: dict[str, tuple[str, bytes, Sequence[str]]]) -> dict:
    """``models``: role ("champion", "challenger") -> (ref, ONNX bytes, class names). Every
    model runs on the same ``windows``; ``new`` marks those from the new data."""
    new = np.asarray(new, dtype=bool)
    if len(windows) == 0:
        raise UsageError("there are no held-out windows to compare the models on")
    predicted = {role: predicted_names(onnx, classes, windows)
                 for role, (_ref, onnx, classes) in models.items()}
    seen = {str(x) for x in truth} | {x for p in predicted.values() for x in p}
    labels = sorted(seen - {INVALID}, key=str) + ([INVALID] if INVALID in seen else [])
    return {"windows": len(windows), "new_windows": int(new.sum()), "labels": labels,
            "models": {role: {"ref": ref, **scores(truth, predicted[role], new, labels)}
                       for role, (ref, _onnx, _classes) in models.items()}}
