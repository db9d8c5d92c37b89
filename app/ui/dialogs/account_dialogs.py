"""Account dialogs of the Administration page: add a user, change roles, reset a password."""

from __future__ import annotations

import secrets

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.core.records import UserInfo
from app.core.roles import EXCLUSIVE, Role
from app.services import Services
from app.ui.dialogs.job_dialog import JobDialog
from app.ui.task_runner import TaskRunner, describe_error

#: Letters of a one-time password: no 0/O, 1/l/I, so it survives being read out or copied
#: by hand onto paper.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def one_time_password(groups: int = 3, size: int = 4) -> str:
    """A random temporary password such as ``k7dm-x3pq-9hta`` (about 74 bits)."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(size))
                    for _ in range(groups))


def _exclusive_note() -> str:
    rules = [f"{role.value} cannot be held with {' or '.join(sorted(r.value for r in others))}"
             for role, others in EXCLUSIVE.items()]
    return "; ".join(rules) + " (an administrator never signs)"


class RolePicker(QWidget):
    """One check box per role; the service decides which combinations are allowed."""

    def __init__(self, checked: tuple[Role, ...] | frozenset[Role] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.boxes: dict[Role, QCheckBox] = {}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for role in Role:
            box = QCheckBox(role.value)
            box.setChecked(role in checked)
            self.boxes[role] = box
            layout.addWidget(box)
        layout.addStretch(1)
        self.setToolTip(_exclusive_note())

    def roles(self) -> list[str]:
        """The checked roles' names, in the order of :class:`Role`."""
        return [role.value for role, box in self.boxes.items() if box.isChecked()]

    def set_roles(self, roles: list[str] | tuple[str, ...]) -> None:
        """Check exactly ``roles``."""
        for role, box in self.boxes.items():
            box.setChecked(role.value in roles)


class _AccountDialog(JobDialog):
    """Shared layout: a form, the error line, an action button and Cancel."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 action_text: str, parent: QWidget | None) -> None:
        super().__init__(runner, parent)
        self.services, self.principal = services, principal
        self.form = QFormLayout()
        self.action_button = QPushButton(action_text)
        self.action_button.setDefault(True)
        self.default_button = self.action_button
        self.buttons = QDialogButtonBox()
        self.buttons.addButton(self.action_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.action_button.clicked.connect(self.submit)
        if self.cancel_button is not None:
            self.cancel_button.clicked.connect(self.reject)
        self.intro_label = QLabel("")
        self.intro_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro_label)
        layout.addLayout(self.form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(480)

    def submit(self) -> None:
        """Subclasses check their fields and run the service call."""
        raise NotImplementedError

    def _failed(self, exc: BaseException) -> None:
        if not self.abandoned:
            self.show_error(describe_error(exc))


class AddUserDialog(_AccountDialog):
    """User name, initial password (twice) and roles; the account and its signing key are
    made by the service, which also refuses a name taken or roles not held together."""

    sig_added = Signal(object)
    """The account was made; carries its UserInfo."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, "Add user", parent)
        self.setWindowTitle("Add a user")
        self.intro_label.setText("The new user signs in with this password; their signing "
                                 "key is made with it and trusted for their roles.")
        self.username_edit = QLineEdit()
        self.username_edit.setPlaceholderText("2 to 64 letters, digits, '.', '_' or '-'")
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.repeat_edit = QLineEdit()
        self.repeat_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.roles = RolePicker()
        self.form.addRow("User name", self.username_edit)
        self.form.addRow("Password", self.password_edit)
        self.form.addRow("Repeat password", self.repeat_edit)
        self.form.addRow("Roles", self.roles)

    def busy_widgets(self) -> list[QWidget]:
        return [self.username_edit, self.password_edit, self.repeat_edit, self.roles,
                self.action_button]

    def submit(self) -> None:
        if self.busy:
            return
        name, password = self.username_edit.text().strip(), self.password_edit.text()
        roles = self.roles.roles()
        if not name:
            self.show_error("enter the user name")
            return
        if password != self.repeat_edit.text():
            self.show_error("the two passwords differ")
            return
        if not roles:
            self.show_error("give the user at least one role")
            return
        add, principal = self.services.users.add, self.principal
        self.show_error("")
        self.run_job(lambda: add(principal, username=name, password=password, roles=roles),
                     on_done=self._done, on_error=self._failed)

    def _done(self, info: UserInfo) -> None:
        self.sig_added.emit(info)
        if not self.abandoned:
            self.accept()


class RolesDialog(_AccountDialog):
    """The roles of one account; the service keeps the last administrator and refuses an
    administrator with a signing role."""

    sig_changed = Signal(object)
    """The roles were replaced; carries the new UserInfo."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 user: UserInfo, parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, "Set roles", parent)
        self.user = user
        self.setWindowTitle(f"Roles of {user.username}")
        self.intro_label.setText(f"Choose the roles of {user.username}. {_exclusive_note()}.")
        self.roles = RolePicker(user.roles)
        self.form.addRow("Roles", self.roles)

    def busy_widgets(self) -> list[QWidget]:
        return [self.roles, self.action_button]

    def submit(self) -> None:
        if self.busy:
            return
        roles = self.roles.roles()
        if not roles:
            self.show_error("give the user at least one role")
            return
        set_roles, principal = self.services.users.set_roles, self.principal
        name = self.user.username
        self.show_error("")
        self.run_job(lambda: set_roles(principal, username=name, roles=roles),
                     on_done=self._done, on_error=self._failed)

    def _done(self, info: UserInfo) -> None:
        self.sig_changed.emit(info)
        if not self.abandoned:
            self.accept()


class ResetPasswordDialog(_AccountDialog):
    """Sets a one-time password made here and shows it once: the user signs in with it and
    must choose their own at once (that makes their new signing key). The service retires
    the old key (what it signed stays valid) and clears a lockout."""

    sig_reset = Signal(str)
    """The password was reset; carries the user name (never the password)."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 user: UserInfo, parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, "Reset password", parent)
        self.user = user
        self.setWindowTitle(f"Reset the password of {user.username}")
        self.intro_label.setText(
            f"Reset the password of {user.username}? PlantML makes a one-time password and "
            "shows it once; give it to them in person. At their next sign-in they must choose "
            "their own password, which makes their new signing key. Their current key is "
            "retired: what it signed stays valid, it signs nothing new.")
        self._password = ""
        self.password_field = QLineEdit()
        self.password_field.setReadOnly(True)
        self.password_field.setVisible(False)
        self.password_field.setObjectName("one-time-password")
        self.done_label = QLabel("")
        self.done_label.setWordWrap(True)
        self.done_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.form.addRow(self.password_field)
        self.form.addRow(self.done_label)

    def busy_widgets(self) -> list[QWidget]:
        return [self.action_button]

    def one_time_password(self) -> str:
        """The password set (empty before the reset succeeded)."""
        return self._password

    def submit(self) -> None:
        if self.busy or self.one_time_password():
            return
        password = one_time_password()
        set_password, principal = self.services.users.set_password, self.principal
        name = self.user.username
        self.show_error("")
        self.run_job(lambda: set_password(principal, username=name, password=password),
                     on_done=lambda _none: self._done(password), on_error=self._failed)

    def _done(self, password: str) -> None:
        self.sig_reset.emit(self.user.username)
        if self.abandoned:
            return  # closed while it ran: the page says to reset again to get a password
        self._password = password
        self.password_field.setText(password)
        self.password_field.setVisible(True)
        self.done_label.setText(
            f"One-time password of {self.user.username} (shown only now): they sign in "
            "with it and choose their own.")
        self.action_button.setVisible(False)
        if self.cancel_button is not None:
            self.cancel_button.setText("Close")
        self.password_field.selectAll()
        self.password_field.setFocus()
