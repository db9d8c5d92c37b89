"""Progress bar, Cancel and message line for a page's one background job at a time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from app.core.errors import Cancelled, PermissionDenied
from app.ui.styles import BAD_STYLE, NOTE_STYLE, REFUSED_STYLE, show_styled
from app.ui.task_runner import TaskHandle, TaskRunner, describe_error

#: Steps of the progress bar (a fraction is shown to a tenth of a percent).
STEPS = 1000


class JobControls(QWidget):
    """The progress bar and its Cancel button (laid out side by side in this widget), plus
    the page's message line (``message_label``, placed by the page wherever it fits).

    :meth:`run` starts a job on the task runner with progress and Cancel; when it ends the
    bar and Cancel hide (or the bar stays, full, with ``keep_bar``), failures and
    cancellations are said in the message line, and :attr:`sig_busy_changed` lets the page
    enable its buttons again.
    """

    sig_busy_changed = Signal(bool)
    """A job started (True) or ended (False); pages re-enable their buttons on it."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self._job: TaskHandle | None = None
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, STEPS)
        self.progress_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.progress_bar, 1)
        layout.addWidget(self.cancel_button)

    @property
    def running(self) -> bool:
        """True while a job started here runs."""
        return self._job is not None

    def run(self, fn: Callable[..., Any], *, what: str, label: str,
            on_done: Callable[[Any], None], cancelled: str | None = None,
            after_error: Callable[[], None] | None = None, keep_bar: bool = False,
            cancellable: bool = True, writes: bool = True) -> TaskHandle | None:
        """Run ``fn`` on the runner; ``what`` names it on the bar, ``label`` in the failure
        message (``cancelled`` replaces the cancellation message). On success the bar hides
        (stays with ``keep_bar``) before ``on_done`` gets the result; on failure
        ``after_error`` runs once the message is shown. A job that cannot be cancelled gets
        a busy bar and no Cancel; ``writes=False`` runs it on the runner's free lane (a
        read or a device poll). None if a job is running already."""
        if self._job is not None:
            return None
        self.progress_bar.setRange(0, STEPS if cancellable else 0)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(f"{what} (%p%)")
        self.progress_bar.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setVisible(cancellable)
        self.show_message("", NOTE_STYLE)

        def done(result: Any) -> None:
            self._finish(keep_bar)
            on_done(result)

        def failed(exc: BaseException) -> None:
            self._finish(False)
            if isinstance(exc, Cancelled):
                self.show_message(cancelled or f"{label} cancelled", NOTE_STYLE)
            elif isinstance(exc, PermissionDenied):
                # A role's refusal: nothing was checked, so nothing "failed".
                self.show_message(f"{label} not allowed: {describe_error(exc)}",
                                  REFUSED_STYLE)
            else:
                self.show_message(f"{label} failed: {describe_error(exc)}", BAD_STYLE)
            if after_error is not None:
                after_error()

        if cancellable:
            self._job = self.runner.submit(
                fn, on_done=done, on_error=failed,
                on_progress=self.progress, writes=writes)
        else:
            self._job = self.runner.submit(fn, on_done=done, on_error=failed,
                                           cancellable=False, writes=writes)
        self.sig_busy_changed.emit(True)
        return self._job

    def fetch(self, fn: Callable[[], Any], *, button: QAbstractButton,
              on_done: Callable[[Any], None]) -> None:
        """Run a quick read (no bar, no Cancel) with ``button`` greyed out until it ends;
        ``on_done`` gets the result, a failure is said in the message line."""
        button.setEnabled(False)

        def done(result: Any) -> None:
            button.setEnabled(True)
            on_done(result)

        def failed(exc: BaseException) -> None:
            button.setEnabled(True)
            self.show_message(describe_error(exc), BAD_STYLE)

        self.runner.submit(fn, on_done=done, on_error=failed, cancellable=False, writes=False)

    def refuse(self, button: QAbstractButton, why: str) -> None:
        """Grey ``button`` out and say ``why`` (a role's refusal) in the message line and its
        tooltip."""
        self.show_message(why, NOTE_STYLE)
        button.setEnabled(False)
        button.setToolTip(why)

    def cancel(self) -> None:
        """Ask the running job to stop."""
        if self._job is not None:
            self._job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_bar.setFormat("cancelling...")

    def progress(self, fraction: float, message: str) -> None:
        """Show the job's progress (ignored once it ended or was cancelled)."""
        if self._job is None or self._job.cancelled:
            return
        self.progress_bar.setValue(round(max(0.0, min(1.0, fraction)) * STEPS))
        self.progress_bar.setFormat(f"{message} (%p%)")

    def complete(self, text: str) -> None:
        """Fill the bar and say ``text`` on it (after a job that keeps its bar)."""
        self.progress_bar.setValue(self.progress_bar.maximum())
        self.progress_bar.setFormat(f"{text} (%p%)")

    def show_message(self, text: str, style: str) -> None:
        """Put ``text`` in the message line with ``style``."""
        show_styled(self.message_label, text, style)

    def _finish(self, keep_bar: bool) -> None:
        self._job = None
        self.cancel_button.setVisible(False)
        if self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, STEPS)
        self.progress_bar.setVisible(keep_bar)
        self.sig_busy_changed.emit(False)
