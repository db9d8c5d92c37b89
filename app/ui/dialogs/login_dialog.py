"""Sign-in dialog; on the first run it creates the administrator instead."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

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

from app.core.errors import Conflict
from app.core.principal import Principal
from app.ui.dialogs.job_dialog import JobDialog
from app.ui.task_runner import TaskRunner, describe_error

if TYPE_CHECKING:  # importing the services is the slow part of start-up
    from app.services import Services

log = logging.getLogger(__name__)


class LoginDialog(JobDialog):
    """Asks for user name and password; after ``accept`` :attr:`principal` is the user.

    Password hashing (Argon2, deliberately slow) runs on the task runner so the dialog
    keeps repainting while it works. At start-up the dialog comes up before the workspace
    is open (``services=None`` and the folder in ``home``): the user types while the
    libraries load, and Sign in is enabled by :meth:`set_services`.
    """

    sig_signed_in = Signal(object)
    """Sign-in (or creation of the first administrator) succeeded; carries the Principal."""

    def __init__(self, services: Services | None, runner: TaskRunner,
                 parent: QWidget | None = None, *, home: Path | None = None) -> None:
        super().__init__(runner, parent)
        self.services = services
        self.principal: Principal | None = None
        self._first_run = False

        self.intro_label = QLabel("")
        self.intro_label.setWordWrap(True)
        self.username_edit = QLineEdit()
        self.username_edit.setMaxLength(64)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat_edit = QLineEdit()
        self.repeat_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat_label = QLabel("Repeat password")

        self.buttons = QDialogButtonBox()
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setDefault(True)
        self.default_button = self.sign_in_button
        self.buttons.addButton(self.sign_in_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAutoDefault(False)
        # Not buttons.accepted: accept() must wait until the services said yes.
        self.sign_in_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow("User name", self.username_edit)
        form.addRow("Password", self.password_edit)
        form.addRow(self.repeat_label, self.repeat_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro_label)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(380)

        if services is None:
            self._show_opening(home)
        else:
            # A quick count query; the dialog cannot be laid out without the answer.
            self.set_services(services, services.auth.needs_admin())

    def set_services(self, services: Services, first_run: bool) -> None:
        """The workspace is open: sign in to it (or, on ``first_run``, create its
        administrator)."""
        self.services = services
        self.sign_in_button.setEnabled(True)
        self._set_first_run(first_run)

    def _show_opening(self, home: Path | None) -> None:
        self.repeat_label.setVisible(False)
        self.repeat_edit.setVisible(False)
        self.setWindowTitle("PlantML - sign in")
        where = f" at {home}" if home is not None else ""
        self.intro_label.setText(f"Opening the workspace{where}…")
        self.sign_in_button.setEnabled(False)

    @property
    def first_run(self) -> bool:
        """True while the dialog creates the administrator rather than signing in."""
        return self._first_run

    def _set_first_run(self, first_run: bool) -> None:
        assert self.services is not None
        self._first_run = first_run
        self.repeat_label.setVisible(first_run)
        self.repeat_edit.setVisible(first_run)
        if first_run:
            self.setWindowTitle("PlantML - create the administrator")
            self.intro_label.setText(
                "This workspace has no accounts yet. Create the administrator: the account "
                "that adds the other users. Keep its password safe; nobody can recover it.")
            self.sign_in_button.setText("Create administrator")
        else:
            self.setWindowTitle("PlantML - sign in")
            self.intro_label.setText(f"Sign in to the workspace at {self.services.home}.")
            self.sign_in_button.setText("Sign in")

    def submit(self) -> None:
        """Check the fields and ask the services in the background."""
        if self.busy or self.services is None:
            return
        username = self.username_edit.text().strip()
        password = self.password_edit.text()
        if not username or not password:
            self.show_error("enter your user name and password")
            return
        if self._first_run and password != self.repeat_edit.text():
            self.show_error("the two passwords differ")
            self.repeat_edit.clear()
            self.repeat_edit.setFocus()
            return
        auth = self.services.auth
        if self._first_run:
            def job() -> Principal:
                return auth.bootstrap_admin(username=username, password=password)
        else:
            def job() -> Principal:
                return auth.login(username=username, password=password)
        self.error_label.setText("checking...")
        # The first administrator changes the workspace; a sign-in is a session event and
        # must not wait behind a long job (switching user during a training run).
        self.run_job(job, on_done=self._succeeded, on_error=self._failed,
                     writes=self._first_run)

    def busy_widgets(self) -> list[QWidget]:
        return [self.username_edit, self.password_edit, self.repeat_edit,
                self.sign_in_button]

    def _succeeded(self, principal: Principal) -> None:
        # Closed while the password was checked: the late answer is ignored.
        if self.abandoned:
            return
        self.principal = principal
        self.error_label.setText("")
        log.info("%s signed in", principal.username)
        self.sig_signed_in.emit(principal)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if self.abandoned:
            return
        self.show_error(describe_error(exc))
        self.password_edit.clear()
        self.repeat_edit.clear()
        if isinstance(exc, Conflict) and self._first_run and self.services is not None:
            # Someone else created the administrator meanwhile: sign in instead.
            self._set_first_run(self.services.auth.needs_admin())
        self.password_edit.setFocus()
