"""Notices when nobody has touched the application for a while (the session lock, T27)."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

#: Input that counts as somebody being at the workstation.
_ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
             QEvent.Type.Wheel, QEvent.Type.TouchBegin}


class IdleWatch(QObject):
    """Watches the whole application's input and emits once when it has been idle too long.

    Measured on the monotonic clock, so moving the wall clock neither locks nor unlocks.
    """

    sig_idle = Signal()
    """No input for the configured time; emitted once until :meth:`reset`."""

    def __init__(self, limit_s: float, parent: QObject | None = None,
                 check_ms: int = 1000) -> None:
        super().__init__(parent)
        self.limit_s = limit_s
        self._last = time.monotonic()
        self._fired = False
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._check)
        if limit_s > 0:
            self._timer.start(check_ms)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() in _ACTIVITY:
            self._last = time.monotonic()
        return False

    def reset(self) -> None:
        """Start counting again (after an unlock)."""
        self._last = time.monotonic()
        self._fired = False

    def stop(self) -> None:
        """Stop watching."""
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def _check(self) -> None:
        if not self._fired and time.monotonic() - self._last >= self.limit_s:
            self._fired = True
            self.sig_idle.emit()
