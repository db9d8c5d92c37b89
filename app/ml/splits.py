"""Leakage-safe train/test splits over window start indices and recording ids."""

from __future__ import annotations

import numpy as np

from app.core.errors import IntegrityError, UsageError
from app.ml.recipe import SplitSpec


def _check(recording_ids: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rec = np.asarray(recording_ids)
    st = np.asarray(starts, dtype=np.int64)
    if rec.ndim != 1 or st.shape != rec.shape:
        raise UsageError(f"recording ids and window starts must be 1-D of equal length, "
                         f"got {rec.shape} and {st.shape}")
    return rec, st


def split_time_ordered(recording_ids: np.ndarray, starts: np.ndarray, window: int,
                       test_fraction: float = 0.3, gap: int | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Per recording: the first (1 - f) of windows train, later ones test, after a gap.

    A test window starts at least ``gap`` samples (default and minimum: one
    window) after the end of the recording's last training window; windows in
    between are dropped, so no sample, nor its immediate neighbourhood, is in both.
    """
    rec, st = _check(recording_ids, starts)
    gap = window if gap is None else gap
    if gap < window:
        raise UsageError(f"gap must be at least one window ({window} samples) to keep "
                         f"overlapping windows out of both sets, got {gap}")
    train, test = [], []
    for rid in np.unique(rec):
        idx = np.flatnonzero(rec == rid)
        idx = idx[np.argsort(st[idx], kind="stable")]
        n_train = int(np.floor(len(idx) * (1.0 - test_fraction)))
        if n_train == 0 or n_train == len(idx):
            raise UsageError(f"recording {rid!r} has {len(idx)} window(s): too few to split "
                             f"in time with test fraction {test_fraction}")
        train_end = st[idx[n_train - 1]] + window
        train.append(idx[:n_train])
        test.append(idx[n_train:][st[idx[n_train:]] >= train_end + gap])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def split_by_recording(recording_ids: np.ndarray, test_fraction: float = 0.3, seed: int = 0,
                       labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Whole recordings to test, about ``test_fraction`` of them per label (if labels given)."""
    rec = np.asarray(recording_ids)
    uniq = np.unique(rec)
    if len(uniq) < 2:
        raise UsageError("a split by recording needs at least two recordings")
    rng = np.random.default_rng(seed)
    if labels is None:
        groups = [uniq]
    else:
        lab = np.asarray(labels)
        first = {r: lab[np.flatnonzero(rec == r)[0]] for r in uniq}
        groups = [np.array([r for r in uniq if first[r] == v]) for v in
                  sorted(set(first.values()), key=str)]
    test_recs: list = []
    for group in groups:
        n_test = int(round(len(group) * test_fraction))
        n_test = min(max(n_test, 1 if len(group) > 1 else 0), len(group) - 1)
        test_recs.extend(rng.permutation(group)[:n_test])
    if not test_recs:
        raise UsageError("no recording could be held out for testing")
    is_test = np.isin(rec, np.array(test_recs))
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def make_split(spec: SplitSpec, recording_ids: np.ndarray, starts: np.ndarray, window: int,
               labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Dispatch on ``spec.kind`` and verify the result with ``check_no_leakage``."""
    if spec.kind == "time":
        train, test = split_time_ordered(recording_ids, starts, window, spec.test_fraction,
                                         spec.gap)
        check_no_leakage(train, test, recording_ids, starts, window, spec.gap or window)
    else:
        train, test = split_by_recording(recording_ids, spec.test_fraction, spec.seed, labels)
        check_no_leakage(train, test, recording_ids, starts, window, None)
    if len(train) == 0 or len(test) == 0:
        raise UsageError(f"the split left {len(train)} training and {len(test)} test windows")
    return train, test


def check_no_leakage(train: np.ndarray, test: np.ndarray, recording_ids: np.ndarray,
                     starts: np.ndarray, window: int, min_gap: int | None) -> None:
    """Raise IntegrityError if a test window is in, or within min_gap of, a training window.

    min_gap None means recordings must be disjoint.
    """
    rec, st = _check(recording_ids, starts)
    if np.intersect1d(train, test).size:
        raise IntegrityError("a window is in both the training and the test set")
    shared = np.intersect1d(rec[train], rec[test])
    if min_gap is None:
        if shared.size:
            raise IntegrityError(f"recording {shared[0]!r} is in both training and test sets")
        return
    for rid in shared:
        tr = st[train][rec[train] == rid]
        te = st[test][rec[test] == rid]
        # Gap between [s, s + window) intervals, to the nearest training window
        # on each side of every test window (negative when they overlap).
        tr = np.sort(tr)
        pos = np.searchsorted(tr, te, side="right")
        gaps = np.full(te.shape, np.inf)
        has_before, has_after = pos > 0, pos < len(tr)
        gaps[has_before] = te[has_before] - (tr[pos[has_before] - 1] + window)
        gaps[has_after] = np.minimum(gaps[has_after], tr[pos[has_after]] - (te[has_after] + window))
        if (gaps < min_gap).any():
            raise IntegrityError(f"recording {rid!r}: a test window lies within {min_gap} "
                                 f"samples of a training window")
