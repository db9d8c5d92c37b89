"""Base of the dialogs that send one service call to the task runner and wait for its answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QDialog, QLabel, QPushButton, QWidget

from app.ui.styles import ERROR_STYLE
from app.ui.task_runner import TaskRunner


class JobDialog(QDialog):
    """Busy state, Close-while-busy and the error line, shared by the sign-in, unlock,
    signature and alias dialogs.

    While the job runs the fields named by :meth:`busy_widgets` are greyed out; when the
    answer comes they are enabled again and ``default_button`` is made the default once
    more (Qt drops the default of a button that was disabled, after which Enter did nothing).
    Closing while busy marks the dialog :attr:`abandoned`: the answer still arrives, and
    each subclass decides what a late answer means.
    """

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self._busy = False
        self._abandoned = False
        self.default_button: QPushButton | None = None
        self.error_label = QLabel("")
        self.error_label.setObjectName("dialog-error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)

    @property
    def busy(self) -> bool:
        """True while the dialog's job runs."""
        return self._busy

    @property
    def abandoned(self) -> bool:
        """True if the dialog was closed while its job ran."""
        return self._abandoned

    def show_error(self, text: str) -> None:
        """Show ``text`` in the dialog's error line."""
        self.error_label.setText(text)

    def busy_widgets(self) -> list[QWidget]:
        """The fields and buttons greyed out while the job runs; subclasses list theirs."""
        return [self.default_button] if self.default_button is not None else []

    def run_job(self, fn: Callable[[], Any], *, on_done: Callable[[Any], None],
                on_error: Callable[[BaseException], None], writes: bool = True) -> None:
        """Run ``fn`` on the runner (not cancellable: a password check or a signature must
        finish once started); the callbacks run after the busy state ended."""
        self._set_busy(True)

        def done(result: Any) -> None:
            self._set_busy(False)
            on_done(result)

        def failed(exc: BaseException) -> None:
            self._set_busy(False)
            on_error(exc)

        self.runner.submit(fn, on_done=done, on_error=failed, cancellable=False, writes=writes)

    def reject(self) -> None:
        if self._busy:
            self._abandoned = True
        super().reject()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in self.busy_widgets():
            widget.setEnabled(not busy)
        if not busy and self.default_button is not None:
            self.default_button.setDefault(True)
