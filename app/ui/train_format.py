"""Texts of the Train page: how a dataset is labelled, model line names, headline metrics."""

from __future__ import annotations

import re
from collections import Counter

from app.core.records import DatasetInfo


def labels_summary(info: DatasetInfo) -> str:
    """How the dataset's recordings are labelled, as training sees it (the newest
    whole-recording label of each recording)."""
    whole: dict[int, str] = {}
    ranges = 0
    for lb in info.labels:
        if lb.t_start is None:
            whole[lb.recording] = lb.label
        else:
            ranges += 1
    counts = Counter(whole.values())
    n = len(info.recordings)
    parts = [f"{n} recording{'s' if n != 1 else ''}"]
    if counts:
        parts.append(", ".join(f"{label} x{k}" for label, k in sorted(counts.items())))
    unlabelled = n - len(whole)
    if unlabelled:
        parts.append(f"{unlabelled} unlabelled (label them on the Data page before "
                     "training)")
    if ranges:
        parts.append(f"{ranges} time-range label{'s' if ranges != 1 else ''} (shown, not "
                     "used for training)")
    return "; ".join(parts)


def line_name_for(name: str) -> str:
    """A valid model line name from a dataset name: ``Pump 3 (east)`` -> ``pump-3-east``."""
    slug = re.sub(r"[^a-z0-9_.-]+", "-", name.strip().lower()).strip("-._")
    return slug[:100] or "model"


def metrics_text(validation: dict) -> str:
    """Headline metrics of a validation report, one line each."""
    metrics = validation.get("metrics", {})
    lines = [f"{validation.get('task', '')} with {validation.get('model', '')}: "
             f"{validation.get('n_train', 0)} training and {validation.get('n_test', 0)} "
             "held-out windows"]
    for key, value in metrics.items():
        if isinstance(value, bool) or key in ("classes", "confusion"):
            continue
        if isinstance(value, float):
            lines.append(f"{key.replace('_', ' ')}: {value:.4g}")
        elif isinstance(value, int) or value is None:
            lines.append(f"{key.replace('_', ' ')}: {'n/a' if value is None else value}")
        elif isinstance(value, dict):
            lines.append(f"{key.replace('_', ' ')}: " + ", ".join(
                f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                for k, v in value.items()))
    return "\n".join(lines)
