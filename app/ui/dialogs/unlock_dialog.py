"""Asks the signed-in user for their password to unlock a session locked while idle."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.services import Services
from app.ui.dialogs.job_dialog import JobDialog
from app.ui.task_runner import TaskRunner, describe_error


class UnlockDialog(JobDialog):
    """Only the user who was signed in can unlock; the password check runs on the runner.

    Someone else at the workstation signs the locked session out, or switches to their own
    account, without knowing the locked user's password: both end that session (audited).
    """

    sig_unlocked = Signal(object)
    """The password was right; carries the (re-checked) Principal."""

    sig_sign_out = Signal()
    """Sign out was chosen: end the locked session and show the sign-in."""

    sig_switch_user = Signal()
    """Switch user was chosen: ask another user to sign in over the locked session."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 minutes: float, parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self.services, self.principal = services, principal
        self.setWindowTitle("PlantML - session locked")
        self.setModal(True)
        locked = f"after {minutes:g} minutes without input" if minutes > 0 else "on request"
        self.info_label = QLabel(f"The session was locked {locked}. "
                                 f"Password of {principal.username}:")
        self.info_label.setWordWrap(True)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setDefault(True)
        self.default_button = self.unlock_button
        self.unlock_button.clicked.connect(self.try_unlock)
        self.switch_button = QPushButton("Switch user...")
        self.switch_button.setAutoDefault(False)
        self.switch_button.setToolTip("Sign in as someone else; this session is signed out")
        self.switch_button.clicked.connect(self.sig_switch_user)
        self.sign_out_button = QPushButton("Sign out")
        self.sign_out_button.setAutoDefault(False)
        self.sign_out_button.setToolTip(f"End the session of {principal.username}")
        self.sign_out_button.clicked.connect(self.sig_sign_out)
        buttons = QDialogButtonBox()
        buttons.addButton(self.unlock_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.switch_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.sign_out_button, QDialogButtonBox.ButtonRole.DestructiveRole)
        layout = QVBoxLayout(self)
        for widget in (self.info_label, self.password_edit, self.error_label, buttons):
            layout.addWidget(widget)
        self.setMinimumWidth(420)

    def try_unlock(self) -> None:
        """Check the password in the background."""
        if self.busy:
            return
        password = self.password_edit.text()
        self.password_edit.clear()
        if not password:
            self.show_error(f"enter the password of {self.principal.username}")
            return
        self.error_label.setText("")
        who, auth = self.principal, self.services.auth
        # A session event: it must not wait for a long job on the writer lane.
        self.run_job(lambda: auth.unlock_session(who, password=password),
                     on_done=self._done, on_error=self._failed, writes=False)

    def busy_widgets(self) -> list[QWidget]:
        return [self.password_edit, self.unlock_button, self.switch_button,
                self.sign_out_button]

    def reject(self) -> None:
        # Escape or the close button must not get past the lock.
        return

    def end(self) -> None:
        """Close without unlocking (the session ends another way)."""
        super().reject()

    def _done(self, principal: Principal) -> None:
        self.sig_unlocked.emit(principal)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.show_error(describe_error(exc))
        self.password_edit.setFocus()
