"""Progress reporting and cooperative cancellation for long-running jobs."""

from __future__ import annotations

import threading
from collections.abc import Callable

from app.core.errors import Cancelled

#: ``progress(fraction, message)`` with ``fraction`` in [0, 1].
ProgressFn = Callable[[float, str], None]


def no_progress(fraction: float, message: str) -> None:
    """Progress callback that ignores every report."""


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


NEVER_CANCELLED = CancelToken()
