"""Asks the signed-in user for their password to unlock a session locked while idle."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from app.core.principal import Principal
from app.services import Services
from app.ui.styles import ERROR_STYLE
from app.ui.task_runner import TaskRunner, describe_error


class UnlockDialog(QDialog):
    """Only the user who was signed in can unlock; the password check runs on the worker."""

    sig_unlocked = Signal(object)
    """The password was right; carries the (re-checked) Principal."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 minutes: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.principal = services, runner, principal
        self.setWindowTitle("PlantML - session locked")
        self.setModal(True)
        self.info_label = QLabel(f"The session was locked after {minutes:g} minutes without "
                                 f"input. Password of {principal.username}:")
        self.info_label.setWordWrap(True)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.error_label = QLabel("")
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.try_unlock)
        layout = QVBoxLayout(self)
        for widget in (self.info_label, self.password_edit, self.error_label,
                       self.unlock_button):
            layout.addWidget(widget)

    def try_unlock(self) -> None:
        """Check the password in the background."""
        password = self.password_edit.text()
        self.password_edit.clear()
        self.unlock_button.setEnabled(False)
        self.error_label.setText("")
        who = self.principal
        auth = self.services.auth
        self.runner.submit(lambda: auth.unlock_session(who, password=password),
                           on_done=self._done, on_error=self._failed, cancellable=False)

    def reject(self) -> None:
        # Escape or the close button must not get past the lock.
        return

    def _done(self, principal: Principal) -> None:
        self.unlock_button.setEnabled(True)
        self.sig_unlocked.emit(principal)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.unlock_button.setEnabled(True)
        self.error_label.setText(describe_error(exc))
