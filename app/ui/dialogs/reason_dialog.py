"""Confirm one audited change with a reason (retire a version, revoke or import keys, unlock)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.dialogs.job_dialog import JobDialog
from app.ui.task_runner import TaskRunner, describe_error

#: The change: takes the reason, returns the service's answer (runs on the worker).
ReasonJob = Callable[[str], Any]


class ReasonDialog(JobDialog):
    """Says what will happen, asks why, and runs ``job(reason)`` on the task runner once the
    confirming button is pressed. A refusal (role, state, bad file) stays in the dialog as
    one sentence; on success it emits :attr:`sig_done` and closes."""

    sig_done = Signal(object)
    """The change was made; carries what the service returned."""

    def __init__(self, runner: TaskRunner, *, title: str, question: str, confirm_text: str,
                 job: ReasonJob, reason_required: bool = True,
                 reason_hint: str = "why (required; it goes into the audit trail)",
                 parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self._job = job
        self._required = reason_required
        self.setWindowTitle(title)
        self.question_label = QLabel(question)
        self.question_label.setWordWrap(True)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText(reason_hint)
        self.confirm_button = QPushButton(confirm_text)
        self.confirm_button.setDefault(True)
        self.default_button = self.confirm_button
        self.buttons = QDialogButtonBox()
        self.buttons.addButton(self.confirm_button, QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.confirm_button.clicked.connect(self.submit)
        cancel.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow("Reason", self.reason_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.question_label)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)

    def submit(self) -> None:
        """Make the change in the background (after checking a reason was given)."""
        if self.busy:
            return
        reason = self.reason_edit.text().strip()
        if self._required and not reason:
            self.show_error("say why: the reason goes into the audit trail")
            return
        job = self._job
        self.show_error("")
        self.run_job(lambda: job(reason), on_done=self._done, on_error=self._failed)

    def busy_widgets(self) -> list[QWidget]:
        return [self.reason_edit, self.confirm_button]

    def _done(self, result: Any) -> None:
        # Announced even after a close: the change was made.
        self.sig_done.emit(result)
        if not self.abandoned:
            self.accept()

    def _failed(self, exc: BaseException) -> None:
        if not self.abandoned:
            self.show_error(describe_error(exc))
