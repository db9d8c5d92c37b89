"""Base of the electronic-signature dialogs: evidence, reason, password, Sign on the runner."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.model_version import ModelVersion
from app.core.principal import Principal
from app.services import Services
from app.ui.dialogs.job_dialog import JobDialog
from app.ui.task_runner import TaskRunner, describe_error

log = logging.getLogger(__name__)


#: A signing job: takes nothing, returns the signed version (runs on the worker).
SignJob = Callable[[], ModelVersion]

#: Makes the signing job from the password and the reason, or returns None after
#: :meth:`SigningDialog.show_error` for a bad field. It runs on the GUI thread and may read
#: the dialog's fields; the job it returns runs on the worker and must only use values
#: captured here.
JobBuilder = Callable[[str, str], SignJob | None]


class SigningDialog(JobDialog):
    """Shows the evidence, asks for a reason and the password, signs in the background.

    The password is read from its field when Sign is pressed (or Enter, through the default
    button only: one key press signs once), handed to that one job and cleared from the
    field as the job starts, or after a refusal: it is re-entered for every signature and
    never kept. A missing reason or meaning leaves the typed password where it is.
    Refusals (wrong password, four eyes, wrong state) stay inside the dialog; on success it
    emits :attr:`sig_signed` and closes. Subclasses add their fields with :meth:`add_row`
    and say what to sign with the ``build_job`` they pass to this constructor.
    """

    sig_signed = Signal(object)
    """The signature was recorded; carries the ModelVersion the service returned."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 info: ModelVersion, *, title: str, sign_text: str,
                 build_job: JobBuilder, parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self._build_job = build_job
        self.services = services
        self.principal = principal
        self.info = info
        self.setWindowTitle(title)

        self.evidence_view = QPlainTextEdit()
        self.evidence_view.setReadOnly(True)
        self.evidence_view.setObjectName("evidence")
        self.evidence_view.setMinimumHeight(120)
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("why you sign (required)")
        self.reason_edit.setMaxLength(500)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText(f"password of {principal.username}")
        self.signer_label = QLabel(
            f"Signing as {principal.username}: your password confirms it is you.")
        self.signer_label.setWordWrap(True)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.buttons = QDialogButtonBox()
        self.sign_button = QPushButton(sign_text)
        self.sign_button.setDefault(True)
        self.default_button = self.sign_button
        self.buttons.addButton(self.sign_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAutoDefault(False)
        # Not buttons.accepted: the dialog closes only once the service has signed.
        self.sign_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        # Enter reaches the default button; a returnPressed connection as well signed twice.

        self.form = QFormLayout()
        self._fixed_rows = (("Reason", self.reason_edit), ("Password", self.password_edit))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Evidence"))
        layout.addWidget(self.evidence_view, 1)
        layout.addLayout(self.form)
        layout.addWidget(self.signer_label)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

    # ---------------------------------------------------------------- for subclasses

    def add_row(self, caption: str, widget: QWidget) -> None:
        """Add a field above reason and password."""
        self.form.addRow(caption, widget)

    def finish_form(self) -> None:
        """Append the reason and password rows; subclasses call it after their own rows."""
        for caption, widget in self._fixed_rows:
            self.form.addRow(caption, widget)

    def set_evidence(self, text: str) -> None:
        """The evidence shown above the form."""
        self.evidence_view.setPlainText(text)

    # ---------------------------------------------------------------- public API

    def submit(self) -> None:
        """Check the fields and sign in the background."""
        if self.busy:
            return
        reason = self.reason_edit.text().strip()
        password = self.password_edit.text()
        if not reason:
            self.show_error("a signature needs a reason")
            self.reason_edit.setFocus()
            return
        if not password:
            self.show_error("enter your password to sign")
            self.password_edit.setFocus()
            return
        job = self._build_job(password, reason)
        if job is None:
            return
        # Handed to this one job: re-entered for every attempt, right or wrong.
        self.password_edit.clear()
        self.error_label.setText("signing...")
        self.run_job(job, on_done=self._signed, on_error=self._failed)

    # ---------------------------------------------------------------- internals

    def busy_widgets(self) -> list[QWidget]:
        return [self.sign_button, *self._inputs()]

    def _inputs(self) -> list[QWidget]:
        items = (self.form.itemAt(i) for i in range(self.form.count()))
        widgets = (item.widget() for item in items if item is not None)
        return [w for w in widgets if w is not None and not isinstance(w, QLabel)]

    def _signed(self, info: ModelVersion) -> None:
        # Closed while signing, the answer still counts (the signature was made): it is
        # announced so the view refreshes, and this dialog says nothing more.
        self.info = info
        self.error_label.setText("")
        log.info("%s signed %s", self.principal.username, info.ref)
        self.sig_signed.emit(info)
        if not self.abandoned:
            self.accept()

    def _failed(self, exc: BaseException) -> None:
        if self.abandoned:
            return
        self.show_error(describe_error(exc))
        self.password_edit.setFocus()
