"""Workspace health: repeated storage failures switch the workspace to read-only with an alarm."""

from __future__ import annotations

import logging
import threading

from app.core.errors import WorkspaceReadOnly

log = logging.getLogger(__name__)

#: Consecutive failed writes after which the workspace stops accepting writes.
FAILURES_BEFORE_READ_ONLY = 3


class Health:
    """Counts consecutive storage failures; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.failures = 0
        self.alarm = ""

    @property
    def read_only(self) -> bool:
        """True once writes are refused."""
        return bool(self.alarm)

    def check_writable(self) -> None:
        """Raise :class:`WorkspaceReadOnly` if writes are refused."""
        if self.alarm:
            raise WorkspaceReadOnly(self.alarm)

    def failed(self, reason: str) -> bool:
        """Record one failed write; returns True if this one made the workspace read-only."""
        with self._lock:
            self.failures += 1
            if self.failures >= FAILURES_BEFORE_READ_ONLY and not self.alarm:
                self.alarm = (f"ALARM: the workspace is read-only after {self.failures} failed "
                              f"writes in a row (last: {reason}). Check the disk, then restart "
                              "PlantML.")
                log.critical(self.alarm)
                return True
            return False

    def succeeded(self) -> None:
        """Record a successful write."""
        with self._lock:
            self.failures = 0
