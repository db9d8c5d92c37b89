"""The test tools themselves: the fake clock moves wall and monotonic time as tests need, and
the thread-leak check sees daemon threads too."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from app.core.clock import FakeClock
from tests.conftest import _leaked

START = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def test_a_jump_moves_only_the_wall_clock():
    clock = FakeClock(START, frozen=True)
    mono = clock.monotonic()
    clock.jump(-3 * 3600)
    assert clock.now() == datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    assert clock.monotonic() == mono


def test_advancing_moves_wall_and_monotonic_time_together():
    clock = FakeClock(START, frozen=True)
    mono = clock.monotonic()
    clock.advance(90.5)
    assert clock.monotonic() - mono == 90.5
    assert (clock.now() - START).total_seconds() == 90.5
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


def test_a_frozen_clock_stands_still_and_a_running_one_runs_on():
    frozen, running = FakeClock(frozen=True), FakeClock(START)
    f0, r0 = frozen.monotonic(), running.monotonic()
    wall = frozen.now()
    time.sleep(0.02)  # real time must pass for the running clock to show it
    assert frozen.monotonic() == f0 and frozen.now() == wall
    assert running.monotonic() - r0 >= 0.02
    running.advance(10)
    assert running.monotonic() - r0 >= 10.02
    # A given start stays put on its own: the wall clock moved by the advance only.
    assert (running.now() - START).total_seconds() == 10


def test_daemon_threads_count_as_leaked():
    before = set(threading.enumerate())
    stop = threading.Event()
    worker = threading.Thread(target=stop.wait, name="worker", daemon=True)
    worker.start()
    try:
        assert _leaked(before) == [worker]
    finally:
        stop.set()
        worker.join()
    assert _leaked(before) == []
