"""Progress and cancel primitives: the one sub-progress helper, and a default cancel token
that no caller can cancel."""

from __future__ import annotations

import shutil

import pytest

from app.core.errors import Cancelled
from app.core.progress import NEVER_CANCELLED, CancelToken, share_of, sub_progress
from app.core.resources import resource


def test_the_default_token_cannot_be_cancelled_by_any_caller():
    with pytest.raises(TypeError, match="cannot be cancelled"):
        NEVER_CANCELLED.cancel()
    NEVER_CANCELLED._event.set()  # even reaching past the API changes nothing
    try:
        assert not NEVER_CANCELLED.cancelled
        NEVER_CANCELLED.raise_if_cancelled()
    finally:
        NEVER_CANCELLED._event.clear()


def test_a_token_of_its_own_still_cancels():
    token = CancelToken()
    assert not token.cancelled
    token.cancel()
    assert token.cancelled
    with pytest.raises(Cancelled):
        token.raise_if_cancelled()


def test_sub_progress_maps_a_step_into_its_range_and_nests():
    seen: list[tuple[float, str]] = []
    outer = sub_progress(lambda f, m: seen.append((round(f, 6), m)), 0.2, 0.6)
    inner = sub_progress(outer, 0.5, 1.0)
    outer(0.0, "a")
    outer(1.0, "b")
    inner(0.5, "c")
    outer(1.7, "d")
    outer(-1.0, "e")
    assert seen == [(0.2, "a"), (0.6, "b"), (0.5, "c"), (0.6, "d"), (0.2, "e")]
    with pytest.raises(ValueError):
        sub_progress(print, 0.7, 0.3)


def test_share_of_splits_a_range_into_equal_steps():
    seen: list[float] = []
    report = seen.append
    for i in range(4):
        step = share_of(lambda f, _m: report(round(f, 6)), i, 4, end=0.8)
        step(0.0, "")
        step(1.0, "")
    assert seen == [0.0, 0.2, 0.2, 0.4, 0.4, 0.6, 0.6, 0.8]
    with pytest.raises(ValueError):
        share_of(print, 4, 4)


def test_a_two_file_import_reports_progress_forward_within_its_share(services, people,
                                                                      tmp_path):
    files = []
    for name in ("pump-healthy.csv", "pump-bearing-fault.csv"):
        files.append(tmp_path / name)
        shutil.copy(resource("sample-data", name), files[-1])
    seen: list[float] = []
    services.data_in.import_files(people["engineer"], paths=files,
                                  progress=lambda f, _m: seen.append(f))
    assert seen and all(0.0 <= f <= 1.0 for f in seen)
    assert seen == sorted(seen), "progress never goes backwards across the two files"
    assert max(f for f in seen if f <= 0.8) > 0.4, "the second file moves the bar on"
