"""Leakage-safe splits: time-ordered with a gap of at least a window, or by recording."""

import numpy as np
import pytest

from app.core.errors import IntegrityError, UsageError
from app.ml.recipe import SplitSpec
from app.ml.splits import check_no_leakage, make_split, split_by_recording, split_time_ordered

WINDOW = 100


def grid(n_per=50, hop=25, recs=("a", "b", "c")):
    ids = np.repeat(np.array(recs, dtype=object), n_per)
    starts = np.tile(np.arange(n_per) * hop, len(recs))
    return ids, starts


def test_time_split_keeps_order_and_gap():
    ids, starts = grid()
    train, test = split_time_ordered(ids, starts, WINDOW, test_fraction=0.3)
    assert len(np.intersect1d(train, test)) == 0
    for rid in ("a", "b", "c"):
        tr = starts[train][ids[train] == rid]
        te = starts[test][ids[test] == rid]
        assert len(tr) == 35
        assert te.min() >= tr.max() + WINDOW + WINDOW  # end of last train + one window
    check_no_leakage(train, test, ids, starts, WINDOW, WINDOW)


def test_time_split_order_independent_of_row_order():
    ids, starts = grid()
    perm = np.random.default_rng(0).permutation(len(ids))
    train, test = split_time_ordered(ids[perm], starts[perm], WINDOW)
    ref_train, _ = split_time_ordered(ids, starts, WINDOW)
    assert sorted(zip(ids[perm][train], starts[perm][train], strict=True)) == \
        sorted(zip(ids[ref_train], starts[ref_train], strict=True))


def test_gap_below_one_window_is_refused():
    ids, starts = grid()
    with pytest.raises(UsageError, match="at least one window"):
        split_time_ordered(ids, starts, WINDOW, gap=WINDOW - 1)
    with pytest.raises(UsageError, match="random window splits"):
        SplitSpec(kind="random")


def test_too_short_recording_is_refused():
    with pytest.raises(UsageError, match="too few"):
        split_time_ordered(np.array(["a"]), np.array([0]), WINDOW)


def test_leakage_is_detected():
    ids, starts = grid()
    train, test = split_time_ordered(ids, starts, WINDOW)
    # Move one test window next to the training part of its recording.
    bad_starts = starts.copy()
    bad_starts[test[0]] = starts[train][ids[train] == ids[test[0]]].max() + WINDOW // 2
    with pytest.raises(IntegrityError, match="within"):
        check_no_leakage(train, test, ids, bad_starts, WINDOW, WINDOW)
    with pytest.raises(IntegrityError, match="both"):
        check_no_leakage(train, np.append(test, train[0]), ids, starts, WINDOW, WINDOW)
    with pytest.raises(IntegrityError, match="recording"):
        check_no_leakage(train, test, ids, starts, WINDOW, None)


def test_split_by_recording_per_label():
    ids, starts = grid(n_per=10, recs=("a1", "a2", "a3", "b1", "b2", "b3"))
    labels = np.array([r[0] for r in ids])
    train, test = split_by_recording(ids, 0.3, seed=1, labels=labels)
    test_recs = set(ids[test])
    assert len(test_recs) == 2 and {r[0] for r in test_recs} == {"a", "b"}
    check_no_leakage(train, test, ids, starts, WINDOW, None)
    again = make_split(SplitSpec(kind="recording", seed=1), ids, starts, WINDOW, labels)
    assert np.array_equal(again[1], test)


def test_split_by_recording_needs_two():
    with pytest.raises(UsageError, match="at least two"):
        split_by_recording(np.array(["a", "a"]))
