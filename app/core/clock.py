"""Wall and monotonic time behind one object, so tests can jump the wall clock or move time."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta


class Clock:
    """The system clocks; security decisions use :meth:`monotonic`, never wall time alone."""

    def now(self) -> datetime:
        """Current wall time, timezone-aware in local time."""
        return datetime.now(UTC).astimezone()

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards."""
        return time.monotonic()


class FakeClock(Clock):
    """A clock for tests, with two different movements.

    :meth:`jump` sets the wall clock (as a user or a time server would): monotonic time
    does not move. :meth:`advance` lets time pass: wall and monotonic time move together,
    so deadlines, timeouts and commit windows expire without the test sleeping.

    Wall time is ``start`` if given (it does not run on by itself), else the real wall
    time. Monotonic time runs on in real time, unless ``frozen=True``: then it moves only
    by :meth:`advance`, from the real monotonic time at creation, and the wall clock starts
    at ``start`` or at the real wall time of creation.
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._jumped = 0.0   # wall only
        self._passed = 0.0   # wall and monotonic
        self._frozen = frozen
        self._origin = time.monotonic()
        self._start = start if start is not None or not frozen else super().now()

    @property
    def frozen(self) -> bool:
        """True if time moves only by :meth:`advance`."""
        return self._frozen

    def jump(self, seconds: float) -> None:
        """Move the wall clock by ``seconds`` (negative moves it back); monotonic stays."""
        with self._lock:
            self._jumped += seconds

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass: wall and monotonic time move forward together."""
        if seconds < 0:
            raise ValueError("time cannot pass backwards; use jump() to set the wall clock back")
        with self._lock:
            self._passed += seconds

    def now(self) -> datetime:
        with self._lock:
            moved = self._jumped + self._passed
        base = self._start if self._start is not None else super().now()
        return base + timedelta(seconds=moved)

    def monotonic(self) -> float:
        with self._lock:
            passed = self._passed
        return (self._origin if self._frozen else time.monotonic()) + passed
