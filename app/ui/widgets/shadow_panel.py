"""The Controllers page's shadow line: a staged model running beside the active one on the
watched controller, how often the two agree and how long the staged one takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.core.errors import NotFound
from app.ui.styles import BAD_STYLE, GOOD_STYLE, NOTE_STYLE
from app.ui.task_runner import TaskRunner, describe_error

#: Agreement from which the line is green; below it, a plain note (the roll-out decides).
GOOD_AGREEMENT = 0.99


def shadow_text(shadow: Any) -> str:
    """One line for a ShadowStatus that is running."""
    share = "-" if shadow.agreement is None else f"{shadow.agreement:.1%}"
    failures = f", {shadow.failures} failed" if shadow.failures else ""
    return (f"shadow: v{shadow.version} (slot {shadow.slot}) agrees on {share} of "
            f"{shadow.compared} windows{failures}; latency {shadow.latency_us} us (mean "
            f"{shadow.latency_mean_us}, max {shadow.latency_max_us}) over "
            f"{shadow.running_s} s")


class ShadowPanel(QWidget):
    """Hidden unless the followed controller runs a model in shadow. :meth:`refresh` reads
    its shadow block on the task runner (one read at a time) through ``fetch(target)``,
    which runs on the worker and must not touch widgets."""

    sig_shown = Signal(str, object)
    """A shadow read arrived for the followed controller; carries its endpoint and the
    ShadowStatus (or None when it runs nothing in shadow)."""

    def __init__(self, runner: TaskRunner, fetch: Callable[[str], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner, self._fetch = runner, fetch
        self.target: str | None = None
        self._in_flight = False
        self.label = QLabel("")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        self.setVisible(False)

    def refresh(self, target: str, *_args: object) -> None:
        """Read ``target``'s shadow block now (connect to the watch's updates)."""
        self.target = target
        if self._in_flight:
            return  # a slow link must not pile reads up
        fetch = self._fetch
        self._in_flight = True
        try:
            self.runner.submit(lambda: _read(fetch, target),
                               on_done=lambda shadow: self._shown(target, shadow),
                               on_error=lambda exc: self._failed(target, exc),
                               cancellable=False, writes=False)
        except RuntimeError:  # the runner was shut down: the window is closing
            self._in_flight = False

    def clear(self) -> None:
        """Stop following: nothing shown (a stale agreement would read as current)."""
        self.target = None
        self.label.setText("")
        self.setVisible(False)

    def _shown(self, target: str, shadow: Any) -> None:
        self._in_flight = False
        if target != self.target:
            return
        if shadow is None or not shadow.running:
            self.label.setText("")
            self.setVisible(False)
        else:
            good = shadow.agreement is not None and shadow.agreement >= GOOD_AGREEMENT
            self.label.setText(shadow_text(shadow))
            self.label.setStyleSheet(GOOD_STYLE if good else NOTE_STYLE)
            self.setVisible(True)
        self.sig_shown.emit(target, shadow)

    def _failed(self, target: str, exc: BaseException) -> None:
        self._in_flight = False
        if target != self.target:
            return
        self.label.setText(f"shadow not read: {describe_error(exc)}")
        self.label.setStyleSheet(BAD_STYLE)
        self.setVisible(True)


def _read(fetch: Callable[[str], Any], target: str) -> Any:
    """The shadow block, or None from a controller without shadow mode."""
    try:
        return fetch(target)
    except NotFound:
        return None
