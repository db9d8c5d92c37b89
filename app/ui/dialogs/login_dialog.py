"""Sign-in dialog; on the first run it creates the administrator instead, after an
administrator's reset it asks for the user's own password, and it opens a locked
administrator account with the recovery code."""

from __future__ import annotations

import enum
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

from app.core.errors import Conflict, PasswordChangeRequired
from app.core.principal import Principal
from app.ui.dialogs.job_dialog import JobDialog
from app.ui.dialogs.recovery_code_dialog import RecoveryCodeDialog
from app.ui.task_runner import TaskRunner, describe_error

if TYPE_CHECKING:  # importing the services is the slow part of start-up
    from app.services import Services

log = logging.getLogger(__name__)


class Mode(enum.Enum):
    """What the dialog's button does."""

    SIGN_IN = "sign in"
    FIRST_RUN = "create the administrator"
    RESET = "choose your own password"
    RECOVER = "recover the administrator"


class LoginDialog(JobDialog):
    """Asks for user name and password; after ``accept`` :attr:`principal` is the user.

    Password hashing (Argon2, deliberately slow) runs on the task runner so the dialog
    keeps repainting while it works. At start-up the dialog comes up before the workspace
    is open (``services=None`` and the folder in ``home``): the user types while the
    libraries load, and Sign in is enabled by :meth:`set_services`. A recovery code (first
    run, recovery) is shown once in :attr:`code_dialog`; the dialog accepts when it closes.
    """

    sig_signed_in = Signal(object)
    """Sign-in (or creation of the first administrator) succeeded; carries the Principal."""

    def __init__(self, services: Services | None, runner: TaskRunner,
                 parent: QWidget | None = None, *, home: Path | None = None) -> None:
        super().__init__(runner, parent)
        self.services = services
        self.principal: Principal | None = None
        self.mode = Mode.SIGN_IN
        self.code_dialog: RecoveryCodeDialog | None = None
        self._temporary = ""

        self.intro_label = QLabel("")
        self.intro_label.setWordWrap(True)
        self.username_edit = QLineEdit()
        self.username_edit.setMaxLength(64)
        self.code_edit = QLineEdit()
        self.code_label = QLabel("Recovery code")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_label = QLabel("Password")
        self.repeat_edit = QLineEdit()
        self.repeat_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat_label = QLabel("Repeat password")

        self.buttons = QDialogButtonBox()
        self.sign_in_button = QPushButton("Sign in")
        self.sign_in_button.setDefault(True)
        self.default_button = self.sign_in_button
        self.buttons.addButton(self.sign_in_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.recover_button = QPushButton("Recover administrator…")
        self.recover_button.setAutoDefault(False)
        self.recover_button.setToolTip("Open a locked or forgotten administrator account with "
                                       "the recovery code from the safe")
        self.buttons.addButton(self.recover_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setAutoDefault(False)
        # Not buttons.accepted: accept() must wait until the services said yes.
        self.sign_in_button.clicked.connect(self.submit)
        self.recover_button.clicked.connect(self._toggle_recover)
        self.cancel_button.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow("User name", self.username_edit)
        form.addRow(self.code_label, self.code_edit)
        form.addRow(self.password_label, self.password_edit)
        form.addRow(self.repeat_label, self.repeat_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro_label)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

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
        self._set_mode(Mode.FIRST_RUN if first_run else Mode.SIGN_IN)

    def _show_opening(self, home: Path | None) -> None:
        self._show_fields(code=False, repeat=False)
        self.recover_button.setVisible(False)
        self.setWindowTitle("PlantML - sign in")
        where = f" at {home}" if home is not None else ""
        self.intro_label.setText(f"Opening the workspace{where}…")
        self.sign_in_button.setEnabled(False)

    @property
    def first_run(self) -> bool:
        """True while the dialog creates the administrator rather than signing in."""
        return self.mode is Mode.FIRST_RUN

    def _show_fields(self, *, code: bool, repeat: bool) -> None:
        for widget in (self.code_label, self.code_edit):
            widget.setVisible(code)
        for widget in (self.repeat_label, self.repeat_edit):
            widget.setVisible(repeat)

    def _set_mode(self, mode: Mode) -> None:
        assert self.services is not None
        self.mode = mode
        self._show_fields(code=mode is Mode.RECOVER,
                          repeat=mode in (Mode.FIRST_RUN, Mode.RESET, Mode.RECOVER))
        self.recover_button.setVisible(mode in (Mode.SIGN_IN, Mode.RECOVER))
        self.recover_button.setText("Back to sign-in" if mode is Mode.RECOVER
                                    else "Recover administrator…")
        self.username_edit.setReadOnly(mode is Mode.RESET)
        self.password_label.setText("New password" if mode in (Mode.RESET, Mode.RECOVER)
                                    else "Password")
        title, intro, button = {
            Mode.FIRST_RUN: (
                "create the administrator",
                "This workspace has no accounts yet. Create the administrator: the account "
                "that adds the other users. A recovery code is shown once afterwards: it is "
                "the only way back into the account if its password is lost.",
                "Create administrator"),
            Mode.SIGN_IN: ("sign in", f"Sign in to the workspace at {self.services.home}.",
                           "Sign in"),
            Mode.RESET: (
                "choose your password",
                "An administrator reset your password. Choose your own now: your new "
                "signing key is made with it (what you signed before stays valid).",
                "Set password"),
            Mode.RECOVER: (
                "recover the administrator",
                "Enter the administrator's name, the recovery code kept in the safe and a "
                "new password. The account is unlocked; the code is used up and a new one "
                "is shown once.",
                "Recover"),
        }[mode]
        self.setWindowTitle(f"PlantML - {title}")
        self.intro_label.setText(intro)
        self.sign_in_button.setText(button)

    def _toggle_recover(self) -> None:
        if self.busy or self.services is None:
            return
        self.error_label.setText("")
        self.code_edit.clear()
        self.password_edit.clear()
        self.repeat_edit.clear()
        self._set_mode(Mode.SIGN_IN if self.mode is Mode.RECOVER else Mode.RECOVER)

    def submit(self) -> None:
        """Check the fields and ask the services in the background."""
        if self.busy or self.services is None:
            return
        username = self.username_edit.text().strip()
        password = self.password_edit.text()
        code = self.code_edit.text().strip()
        mode = self.mode
        if not username or not password:
            self.show_error("enter your user name and password")
            return
        if mode is Mode.RECOVER and not code:
            self.show_error("enter the recovery code")
            return
        if mode is not Mode.SIGN_IN and password != self.repeat_edit.text():
            self.show_error("the two passwords differ")
            self.repeat_edit.clear()
            self.repeat_edit.setFocus()
            return
        auth = self.services.auth
        temporary = self._temporary

        def job() -> tuple[Principal, str]:
            if mode is Mode.FIRST_RUN:
                return auth.initialize(username=username, password=password)
            if mode is Mode.RECOVER:
                return auth.recover_admin(username=username, code=code, new_password=password)
            if mode is Mode.RESET:
                return auth.complete_reset(username=username, temporary_password=temporary,
                                           new_password=password), ""
            return auth.login(username=username, password=password), ""

        self.error_label.setText("checking...")
        # Creating, resetting and recovering change the workspace; a sign-in is a session
        # event and must not wait behind a long job (switching user during a training run).
        self.run_job(job, on_done=self._succeeded, on_error=self._failed,
                     writes=mode is not Mode.SIGN_IN)

    def busy_widgets(self) -> list[QWidget]:
        return [self.username_edit, self.password_edit, self.repeat_edit, self.code_edit,
                self.sign_in_button, self.recover_button]

    def _succeeded(self, result: tuple[Principal, str]) -> None:
        # Closed while the password was checked: the late answer is ignored.
        if self.abandoned:
            return
        principal, code = result
        self.principal = principal
        self.error_label.setText("")
        self._temporary = ""
        log.info("%s signed in", principal.username)
        if not code:
            self._finish()
            return
        # Non-modal to this dialog's caller: the code dialog blocks only this dialog, and
        # the sign-in completes when it is closed (after "written down" was ticked).
        self.code_dialog = RecoveryCodeDialog(code, first=self.mode is Mode.FIRST_RUN,
                                              parent=self)
        self.code_dialog.finished.connect(self._finish)
        self.code_dialog.open()

    def _finish(self, *_args: object) -> None:
        assert self.principal is not None
        self.sig_signed_in.emit(self.principal)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if self.abandoned:
            return
        if isinstance(exc, PasswordChangeRequired) and self.mode is Mode.SIGN_IN:
            # The password was the administrator's temporary one: keep it (only in memory,
            # for complete_reset) and ask for the user's own.
            self._temporary = self.password_edit.text()
            self.password_edit.clear()
            self._set_mode(Mode.RESET)
            self.show_error("")
            self.password_edit.setFocus()
            return
        self.show_error(describe_error(exc))
        self.password_edit.clear()
        self.repeat_edit.clear()
        if isinstance(exc, Conflict) and self.first_run and self.services is not None:
            # Someone else created the administrator meanwhile: sign in instead.
            self.set_services(self.services, self.services.auth.needs_admin())
        self.password_edit.setFocus()

    def reject(self) -> None:
        # The recovery code on screen must be acknowledged first (its dialog refuses Escape).
        if self.code_dialog is not None and self.code_dialog.isVisible():
            return
        super().reject()



