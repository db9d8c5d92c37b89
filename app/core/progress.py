"""Progress reporting and cooperative cancellation for long-running jobs."""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.core.errors import Cancelled

#: ``progress(fraction, message)`` with ``fraction`` in [0, 1].
ProgressFn = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """Progress callback that ignores every report."""


def sub_progress(progress: ProgressFn, start: float, end: float) -> ProgressFn:
    """A callback for one step of a job that owns ``[start, end]`` of ``progress``: the
    step reports 0..1 and the job's bar moves from ``start`` to ``end`` (fractions outside
    0..1 are clipped, so a step cannot move the bar backwards past its start)."""
    if not 0.0 <= start <= end <= 1.0:
        raise ValueError(f"a sub-range of progress needs 0 <= start <= end <= 1, got "
                         f"[{start}, {end}]")
    span = end - start

    def report(fraction: float, message: str) -> None:
        progress(start + span * min(max(fraction, 0.0), 1.0), message)

    return report


def share_of(progress: ProgressFn, index: int, count: int, *, start: float = 0.0,
             end: float = 1.0) -> ProgressFn:
    """The ``index``-th of ``count`` equal steps of ``[start, end]`` (one file of a batch)."""
    if count <= 0 or not 0 <= index < count:
        raise ValueError(f"step {index} of {count} does not exist")
    width = (end - start) / count
    return sub_progress(progress, start + index * width, start + (index + 1) * width)


class CancelToken:
    """A flag a job polls between steps; thread-safe, set once by the requester."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the job to stop at its next check."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`Cancelled` if cancellation was requested."""
        if self._event.is_set():
            raise Cancelled("cancelled by the user")


class _NeverCancelled(CancelToken):
    """The default token of every job started without one: nobody can set it, so a stray
    ``cancel()`` cannot stop every later job that shares this default."""

    def cancel(self) -> None:
        raise TypeError("NEVER_CANCELLED cannot be cancelled; give the job a CancelToken() "
                        "of its own")

    @property
    def cancelled(self) -> bool:
        return False

    def raise_if_cancelled(self) -> None:
        """Never raises."""


NEVER_CANCELLED: CancelToken = _NeverCancelled()
"""Default ``cancel`` argument of jobs run without a way to stop them (the CLI, tests)."""
