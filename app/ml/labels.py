"""Labels to training windows: a snapshot's whole-recording and time-range labels become one
labelled recording per recording, or one segment per labelled range."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from app.core.errors import UsageError
from app.core.records import DatasetInfo, RecordingInfo
from app.features.spec import FeatureSpec
from app.ml.dataset import Recording

#: A time-range label: start and end in seconds, and the label.
Range = tuple[float, float, str]


def labelled_recordings(info: DatasetInfo, arrays: Iterable[tuple[RecordingInfo, np.ndarray]],
                        spec: FeatureSpec) -> list[Recording]:
    """The snapshot's labelled data on the spec's channels. A recording with a label gives
    one training recording (its windows inside labelled time ranges take those labels); one
    labelled only in time ranges gives one segment per range, so the unlabelled rest and
    windows across range borders are left out. Raises UsageError for an unlabelled
    recording or overlapping ranges."""
    rows = [[c.name for c in info.channels].index(name) for name in spec.channels]
    out = []
    for rec, data in arrays:
        whole, ranges = labels_of(info, rec.index)
        signal = np.ascontiguousarray(data[rows])
        if whole is not None:
            out.append(Recording(id=f"{rec.index}:{rec.name}", label=whole,
                                 window_labels=window_labels(rec, whole, ranges, spec),
                                 signal=signal))
        elif ranges:
            out.extend(segments(rec, ranges, signal, spec, info.dataset_id))
        else:
            raise UsageError(f"recording {rec.index} ({rec.name}) of dataset "
                             f"{info.dataset_id[:12]} has no label; label it first")
    return out


def labels_of(info: DatasetInfo, recording: int) -> tuple[str | None, list[Range]]:
    """The newest whole-recording label and the time-range labels (oldest first)."""
    whole, ranges = None, []
    for lb in info.labels:
        if lb.recording != recording:
            continue
        if lb.t_start is None or lb.t_end is None:
            whole = lb.label
        else:
            ranges.append((lb.t_start, lb.t_end, lb.label))
    return whole, ranges


def window_labels(rec: RecordingInfo, whole: str, ranges: list[Range],
                  spec: FeatureSpec) -> np.ndarray | None:
    """A label per window: one lying wholly inside a labelled time range takes that label
    (the newest range wins), any other the recording's label."""
    if not ranges:
        return None
    n = max(0, (rec.n_samples - spec.window) // spec.hop + 1)
    start = np.arange(n) * spec.hop / spec.sample_rate
    end = start + spec.window / spec.sample_rate
    labels = np.full(n, whole, dtype=object)
    for t0, t1, label in ranges:
        labels[(start >= t0) & (end <= t1)] = label
    return labels


def segments(rec: RecordingInfo, ranges: list[Range], signal: np.ndarray, spec: FeatureSpec,
             dataset_id: str) -> list[Recording]:
    """One training recording per labelled time range of a recording without a label."""
    ordered = sorted(ranges)
    for (a0, a1, _), (b0, _b1, _) in zip(ordered, ordered[1:], strict=False):
        if b0 < a1:
            raise UsageError(f"recording {rec.index} ({rec.name}) of dataset "
                             f"{dataset_id[:12]}: the labelled ranges {a0:g}-{a1:g} s and "
                             f"from {b0:g} s overlap; give the recording one label or "
                             "separate ranges")
    out = []
    for t0, t1, label in ordered:
        lo, hi = int(round(t0 * spec.sample_rate)), int(round(t1 * spec.sample_rate))
        if hi - lo >= spec.window:
            out.append(Recording(id=f"{rec.index}:{rec.name}@{t0:g}s", label=label,
                                 signal=np.ascontiguousarray(signal[:, lo:hi])))
    return out
