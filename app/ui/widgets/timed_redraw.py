"""A widget redrawn by a GUI timer while it is shown and started, never once per sample."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget


class TimedRedraw(QWidget):
    """Runs ``self.redraw`` every ``interval_ms`` between :meth:`start` and :meth:`stop`,
    paused while the widget is hidden; subclasses provide ``redraw``."""

    def __init__(self, interval_ms: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._wanted = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.redraw)

    def redraw(self) -> None:
        """Draw the current data (each subclass says how)."""
        raise NotImplementedError

    def start(self) -> None:
        """Start redrawing (paused while the widget is hidden)."""
        self._wanted = True
        self.timer.start()

    def stop(self) -> None:
        """Stop the timer after one last redraw, so the final data stay visible."""
        self._wanted = False
        self.timer.stop()
        self.redraw()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._wanted

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt API
        # Nobody looks: no need to spend frames. The buffers keep filling.
        self.timer.stop()
        super().hideEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._wanted:
            self.timer.start()
