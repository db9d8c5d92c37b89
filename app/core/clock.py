"""Wall and monotonic time behind one object, so tests can make the wall clock jump."""

from __future__ import annotations

import time
from datetime import UTC, datetime


class Clock:
    """The system clocks; security decisions use :meth:`monotonic`, never wall time alone."""

    def now(self) -> datetime:
        """Current wall time, timezone-aware in local time."""
        return datetime.now(UTC).astimezone()

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin that never goes backwards."""
        return time.monotonic()


class FakeClock(Clock):
    """A clock whose wall time can be moved by hand; monotonic time still advances normally."""

    def __init__(self, start: datetime | None = None) -> None:
        self._offset = 0.0
        self._start = start

    def jump(self, seconds: float) -> None:
        """Move the wall clock by ``seconds`` (negative moves it back)."""
        self._offset += seconds

    def now(self) -> datetime:
        from datetime import timedelta

        base = self._start if self._start is not None else super().now()
        return base + timedelta(seconds=self._offset)
