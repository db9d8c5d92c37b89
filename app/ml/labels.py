"""Labels to training windows by one rule (LABEL_RULE), and what that rule makes of a dataset."""

# The rule, in the words the Train page, the model card and the approval evidence all use:
# time-range labels ARE used. A window lying wholly inside a labelled range takes that
# range's label; a window across a range edge is left out (half of it is another state);
# elsewhere the recording's own label applies. A recording labelled only by time ranges
# gives one segment per range and nothing else. A class the split leaves no held-out
# window of cannot be tested, so training refuses it rather than report an F1 of 0.

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from app.core.errors import UsageError
from app.core.records import DatasetInfo, RecordingInfo
from app.features.spec import FeatureSpec
from app.ml.dataset import Recording, WindowSet
from app.ml.recipe import SplitSpec
from app.ml.splits import make_split

#: A time-range label: start and end in seconds, and the label.
Range = tuple[float, float, str]

LABEL_RULE = ("Time-range labels are used for training: a window lying wholly inside a "
              "labelled time range takes that range's label (the newest range wins where "
              "ranges overlap); a window across a range edge is left out; elsewhere the "
              "recording's own label applies. A recording labelled only by time ranges "
              "contributes its ranges alone, each as a segment of its own.")

#: The window label of a window across a range edge: left out of training and testing.
LEFT_OUT = None


def labelled_recordings(info: DatasetInfo, arrays: Iterable[tuple[RecordingInfo, np.ndarray]],
                        spec: FeatureSpec) -> list[Recording]:
    """The snapshot's labelled data on the spec's channels, by LABEL_RULE, each recording
    with its operating condition. Windows across a range edge carry the label LEFT_OUT
    (drop them with :func:`drop_left_out`). Raises UsageError for an unlabelled recording
    or, on a recording without a label of its own, overlapping ranges."""
    rows = [[c.name for c in info.channels].index(name) for name in spec.channels]
    out = []
    for rec, data in arrays:
        whole, ranges = labels_of(info, rec.index)
        signal = np.ascontiguousarray(data[rows])
        condition = rec.condition or None
        if whole is not None:
            out.append(Recording(id=f"{rec.index}:{rec.name}", label=whole,
                                 window_labels=window_labels(rec, whole, ranges, spec),
                                 signal=signal, condition=condition))
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
    """A label per window: one lying wholly inside a labelled time range takes that label,
    one across a range edge LEFT_OUT, any other the recording's label; where ranges overlap
    the newest decides. None when the recording has no ranges."""
    if not ranges:
        return None
    start, end = _times(rec.n_samples, spec)
    labels = np.full(len(start), whole, dtype=object)
    # Ranges are laid down oldest first, each over the ones before it: a window inside
    # the range takes its label, one across either of its edges is left out.
    for t0, t1, label in ranges:
        lo, hi = _sample(t0, spec), _sample(t1, spec)
        labels[(start < hi) & (end > lo)] = LEFT_OUT
        labels[(start >= lo) & (end <= hi)] = label
    return labels


def _times(n_samples: int, spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """First sample and end (exclusive) of every window of a recording of ``n_samples``
    (whole samples, so a window ending where a range starts does not touch it)."""
    n = max(0, (n_samples - spec.window) // spec.hop + 1)
    start = np.arange(n, dtype=np.int64) * spec.hop
    return start, start + spec.window


def _sample(t: float, spec: FeatureSpec) -> int:
    """The sample at ``t`` seconds, as a segment's bounds are cut."""
    return int(round(t * spec.sample_rate))


def merge_touching(ordered: list[Range], spec: FeatureSpec) -> list[Range]:
    """Sorted ranges with those of one label that touch (one ends on the sample the next
    starts at) joined: one stretch of the machine in that state, as feedback labels captured
    windows one by one, is one segment, so it can be split in time."""
    merged: list[Range] = []
    for t0, t1, label in ordered:
        if merged and merged[-1][2] == label and \
                _sample(t0, spec) == _sample(merged[-1][1], spec):
            merged[-1] = (merged[-1][0], t1, label)
        else:
            merged.append((t0, t1, label))
    return merged


def segments(rec: RecordingInfo, ranges: list[Range], signal: np.ndarray, spec: FeatureSpec,
             dataset_id: str) -> list[Recording]:
    """One training recording per labelled time range of a recording without a label (ranges
    of one label that touch, end on start, count as one)."""
    ordered = sorted(ranges)
    for (a0, a1, _), (b0, _b1, _) in zip(ordered, ordered[1:], strict=False):
        if b0 < a1:
            raise UsageError(f"recording {rec.index} ({rec.name}) of dataset "
                             f"{dataset_id[:12]}: the labelled ranges {a0:g}-{a1:g} s and "
                             f"from {b0:g} s overlap; give the recording one label or "
                             "separate ranges")
    out = []
    for t0, t1, label in merge_touching(ordered, spec):
        lo, hi = _sample(t0, spec), _sample(t1, spec)
        if hi - lo >= spec.window:
            out.append(Recording(id=f"{rec.index}:{rec.name}@{t0:g}s", label=label,
                                 signal=np.ascontiguousarray(signal[:, lo:hi]),
                                 condition=rec.condition or None))
    return out


def drop_left_out(data: WindowSet) -> tuple[WindowSet, int]:
    """The window set without its LEFT_OUT windows, and how many there were."""
    keep = np.array([lb is not LEFT_OUT for lb in data.labels], dtype=bool)
    if keep.all():
        return data, 0
    pick = np.flatnonzero(keep)
    kept = WindowSet(spec=data.spec, features=data.features[pick], labels=data.labels[pick],
                     recording_ids=data.recording_ids[pick], starts=data.starts[pick],
                     signals=data.signals, valid=data.valid[pick], levels=data.levels[pick],
                     spreads=data.spreads[pick], conditions=data.conditions[pick])
    return kept, int(len(keep) - len(pick))


@dataclass(frozen=True)
class ClassWindows:
    """One label's windows under the rule and how the split divides them."""

    label: str
    windows: int
    train: int
    test: int


@dataclass(frozen=True)
class LabelPlan:
    """What LABEL_RULE and the split make of a dataset's labels, before any sample is read.

    ``problems`` are the reasons training refuses (an unlabelled recording, a class with no
    training or no held-out window, a split that cannot be made). Before training the
    counts include invalid-input windows, which only the samples reveal; the plan a
    training returns counts the windows it actually used.
    """

    rule: str
    split: str
    classes: tuple[ClassWindows, ...]
    from_ranges: int  # windows labelled by a time range
    left_out: int  # windows across a range edge
    problems: tuple[str, ...] = ()

    def summary(self) -> str:
        """The text the Train page shows under the dataset, one fact per line."""
        lines = [self.rule, f"Split: {self.split}."]
        if self.classes:
            lines.append("Windows per class (training / held out): " + ", ".join(
                f"{c.label} {c.train} / {c.test}" for c in self.classes) + ".")
        lines.append(f"{self.from_ranges} windows take a time-range label; {self.left_out} "
                     "across a range edge are left out.")
        lines += [f"Cannot train: {p}" for p in self.problems]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready dict (kept in the validation report as ``labels``)."""
        return asdict(self)

    def raise_for_problems(self) -> None:
        """UsageError with every problem, if there is any."""
        if self.problems:
            raise UsageError("; ".join(self.problems))


def split_text(split: SplitSpec, window: int) -> str:
    """The split in words, as the card states it."""
    if split.kind == "time":
        return (f"time-ordered per recording, the last {split.test_fraction:.0%} held out "
                f"after a gap of {split.gap or window} samples")
    return f"by recording, about {split.test_fraction:.0%} of the recordings held out"


def _geometry(info: DatasetInfo, spec: FeatureSpec
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, list[str]]:
    """Window labels, recording ids and starts by the rule, without reading samples; the
    number of windows a time range labels; the recordings with no label."""
    labels, ids, starts, unlabelled, from_ranges = [], [], [], [], 0
    for rec in info.recordings:
        whole, ranges = labels_of(info, rec.index)
        if whole is not None:
            t0s, t1s = _times(rec.n_samples, spec)
            lab = window_labels(rec, whole, ranges, spec)
            labels.append(np.full(len(t0s), whole, dtype=object) if lab is None else lab)
            ids.append(np.full(len(t0s), str(rec.index), dtype=object))
            starts.append(np.arange(len(t0s), dtype=np.int64) * spec.hop)
            from_ranges += sum(int(np.sum((t0s >= _sample(a, spec)) & (t1s <= _sample(b, spec))))
                               for a, b, _ in ranges)
        elif ranges:
            for a, b, label in merge_touching(sorted(ranges), spec):
                length = _sample(b, spec) - _sample(a, spec)
                n = max(0, (length - spec.window) // spec.hop + 1)
                labels.append(np.full(n, label, dtype=object))
                ids.append(np.full(n, f"{rec.index}@{a:g}", dtype=object))
                starts.append(np.arange(n, dtype=np.int64) * spec.hop)
                from_ranges += n
        else:
            unlabelled.append(f"recording {rec.index} ({rec.name}) has no label; label it "
                              "first")
    return (_cat(labels, object), _cat(ids, object), _cat(starts, np.int64), from_ranges,
            unlabelled)


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


def label_plan(info: DatasetInfo, spec: FeatureSpec, split: SplitSpec,
               task: str = "classification") -> LabelPlan:
    """LABEL_RULE and ``split`` applied to the dataset's labels and recording lengths;
    per-class counts and class problems for classification only."""
    lab, rid, st, from_ranges, problems = _geometry(info, spec)
    what = split_text(split, spec.window)
    keep = np.array([x is not LEFT_OUT for x in lab], dtype=bool)
    left_out = int(np.sum(~keep))
    lab, rid, st = lab[keep], rid[keep], st[keep]
    classes: list[ClassWindows] = []
    if len(lab) and not problems:
        names = np.array([str(x) for x in lab])
        try:
            train, test = make_split(split, rid, st, spec.window,
                                     names if task == "classification" else None)
        except UsageError as exc:
            problems.append(f"the split cannot be made: {exc}")
            train = test = np.zeros(0, dtype=np.intp)
        for name in sorted(set(names.tolist())) if task == "classification" else ():
            n_train = int(np.sum(names[train] == name))
            n_test = int(np.sum(names[test] == name))
            classes.append(ClassWindows(name, int(np.sum(names == name)), n_train, n_test))
            if len(train) and not n_train:
                problems.append(f"class {name} has no training windows under the split "
                                f"({what})")
            if len(test) and not n_test:
                problems.append(f"class {name} has no held-out windows under the split "
                                f"({what}), so it cannot be tested: label more of it, or "
                                "split by recording")
    return LabelPlan(rule=LABEL_RULE, split=what, classes=tuple(classes),
                     from_ranges=from_ranges, left_out=left_out, problems=tuple(problems))
