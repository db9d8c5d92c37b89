"""Windowed training data: features, labels, recording ids and window starts, from recordings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.core.errors import UsageError
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.features.extraction import extract, window_starts
from app.features.spec import FeatureSpec
from app.features.validity import ValidityLimits, check_windows

# Stands for "not given": the window checks are then computed from the signals.
_UNSET = np.empty(0)


def _unset() -> np.ndarray:
    return _UNSET


@dataclass(frozen=True)
class Recording:
    """One continuous recording (channels, samples) with one label, or one label per window.

    ``condition`` names the operating condition it was taken in (a load, a speed, a
    machine, a day): validation holds each condition out in turn when there are several.
    """

    id: str
    signal: np.ndarray
    label: object = None
    window_labels: np.ndarray | None = None
    condition: str | None = None


@dataclass
class WindowSet:
    """Row i: features of the window starting at starts[i] in recording recording_ids[i].

    ``valid`` is False for windows that fail the structural input checks (non-finite,
    flat, clipped); they are kept out of training and testing.  ``levels`` and
    ``spreads`` are each channel's RMS (the speed channel's mean) and standard deviation,
    ``conditions`` each window's recording condition ('' when none was given).
    """

    spec: FeatureSpec
    features: np.ndarray
    labels: np.ndarray
    recording_ids: np.ndarray
    starts: np.ndarray
    signals: dict[str, np.ndarray] = field(repr=False)
    valid: np.ndarray = field(default_factory=_unset)
    levels: np.ndarray = field(default_factory=_unset)
    spreads: np.ndarray = field(default_factory=_unset)
    conditions: np.ndarray = field(default_factory=_unset)

    def __post_init__(self) -> None:
        n = len(self.starts)
        if self.valid is _UNSET or self.levels is _UNSET or self.spreads is _UNSET:
            limits = structural_limits(self.spec)
            parts = [check_windows(self.raw(np.arange(a, min(n, a + 512))), limits)
                     for a in range(0, n, 512)]
            cat = (lambda f: np.concatenate([getattr(p, f) for p in parts])) if parts else (
                lambda f: np.zeros((0, len(self.spec.channels))) if f != "ok" else
                np.zeros(0, dtype=bool))
            self.valid = cat("ok") if self.valid is _UNSET else self.valid
            self.levels = cat("level") if self.levels is _UNSET else self.levels
            self.spreads = cat("spread") if self.spreads is _UNSET else self.spreads
        if self.conditions is _UNSET:
            self.conditions = np.full(n, "", dtype=object)

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


def structural_limits(spec: FeatureSpec) -> ValidityLimits:
    """The checks that need no training data, for the spec's channels."""
    speed = spec.kinematics.speed_channel if spec.kinematics else ""
    return ValidityLimits.structural(spec.channels, speed)


def _window_validity(x: np.ndarray, spec: FeatureSpec, n: int):
    """Structural validity of the n windows of x (channels, samples), a block at a time."""
    from numpy.lib.stride_tricks import sliding_window_view

    views = sliding_window_view(x, spec.window, axis=-1)[:, ::spec.hop][:, :n]
    limits = structural_limits(spec)
    parts = [check_windows(views[:, a:a + 512].transpose(1, 0, 2), limits)
             for a in range(0, n, 512)]
    if not parts:
        empty = np.zeros((0, x.shape[0]))
        return np.zeros(0, dtype=bool), empty, empty
    return (np.concatenate([p.ok for p in parts]), np.concatenate([p.level for p in parts]),
            np.concatenate([p.spread for p in parts]))


def window_set(recordings: list[Recording], spec: FeatureSpec,
               progress: ProgressFn = no_progress, cancel: CancelToken = NEVER_CANCELLED
               ) -> WindowSet:
    """Extract every recording's windows with ``spec`` and stack them."""
    if not recordings:
        raise UsageError("no recordings given")
    if len({r.id for r in recordings}) != len(recordings):
        raise UsageError("recording ids must be distinct")
    feats, labels, recs, starts, signals = [], [], [], [], {}
    valid, levels, spreads, conditions = [], [], [], []
    for k, rec in enumerate(recordings):
        cancel.raise_if_cancelled()
        progress(k / len(recordings), f"extracting features of {rec.id}")
        x = np.asarray(rec.signal)
        finite = np.isfinite(x) if x.dtype.kind == "f" else None
        # Windows holding NaN or infinite samples are marked invalid below; their
        # features are computed on zeros so one bad sample does not stop the training.
        clean = x if finite is None or finite.all() else np.where(finite, x, 0.0)
        f, _ = extract(clean, spec)
        n = len(f)
        ok, lv, sd = _window_validity(x.reshape(len(spec.channels), -1), spec, n)
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
        valid.append(ok)
        levels.append(lv)
        spreads.append(sd)
        conditions.append(np.full(n, "" if rec.condition is None else str(rec.condition),
                                  dtype=object))
    progress(1.0, "features extracted")
    return WindowSet(spec=spec, features=np.concatenate(feats), labels=np.concatenate(labels),
                     recording_ids=np.concatenate(recs), starts=np.concatenate(starts),
                     signals=signals, valid=np.concatenate(valid),
                     levels=np.concatenate(levels), spreads=np.concatenate(spreads),
                     conditions=np.concatenate(conditions))
