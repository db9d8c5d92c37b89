"""Windowed training data: features, labels, recording ids and window starts, from recordings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.core.errors import UsageError
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.features.extraction import extract, window_starts
from app.features.spec import FeatureSpec


@dataclass(frozen=True)
class Recording:
    """One continuous recording (channels, samples) with one label, or one label per window."""

    id: str
    signal: np.ndarray
    label: object = None
    window_labels: np.ndarray | None = None


@dataclass
class WindowSet:
    """Row i: features of the window starting at starts[i] in recording recording_ids[i]."""

    spec: FeatureSpec
    features: np.ndarray
    labels: np.ndarray
    recording_ids: np.ndarray
    starts: np.ndarray
    signals: dict[str, np.ndarray] = field(repr=False)

    @property
    def feature_names(self) -> tuple[str, ...]:
        """Column names, as ``spec.feature_names()``."""
        return self.spec.feature_names()

    def __len__(self) -> int:
        return len(self.starts)

    def raw(self, idx: np.ndarray) -> np.ndarray:
        """Raw windows of the rows idx, float64 (len(idx), channels, window), copied."""
        idx = np.asarray(idx, dtype=np.intp)
        out = np.empty((len(idx), len(self.spec.channels), self.spec.window))
        for k, i in enumerate(idx):
            s = int(self.starts[i])
            out[k] = self.signals[str(self.recording_ids[i])][:, s:s + self.spec.window]
        return out


def window_set(recordings: list[Recording], spec: FeatureSpec,
               progress: ProgressFn = no_progress, cancel: CancelToken = NEVER_CANCELLED
               ) -> WindowSet:
    """Extract every recording's windows with ``spec`` and stack them."""
    if not recordings:
        raise UsageError("no recordings given")
    if len({r.id for r in recordings}) != len(recordings):
        raise UsageError("recording ids must be distinct")
    feats, labels, recs, starts, signals = [], [], [], [], {}
    for k, rec in enumerate(recordings):
        cancel.raise_if_cancelled()
        progress(k / len(recordings), f"extracting features of {rec.id}")
        x = np.asarray(rec.signal)
        f, _ = extract(x, spec)
        n = len(f)
        if rec.window_labels is not None:
            lab = np.asarray(rec.window_labels)
            if lab.shape != (n,):
                raise UsageError(f"recording {rec.id!r}: {lab.shape[0]} window labels for "
                                 f"{n} windows")
        else:
            lab = np.full(n, rec.label, dtype=object)
        feats.append(f)
        labels.append(lab)
        recs.append(np.full(n, rec.id, dtype=object))
        starts.append(window_starts(x.shape[-1], spec))
        signals[rec.id] = x.reshape(len(spec.channels), -1)
    progress(1.0, "features extracted")
    return WindowSet(spec=spec, features=np.concatenate(feats), labels=np.concatenate(labels),
                     recording_ids=np.concatenate(recs), starts=np.concatenate(starts),
                     signals=signals)
