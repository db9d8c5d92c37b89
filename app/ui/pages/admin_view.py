"""The Administration page: accounts (add, roles, unlock, password reset) and the trusted
signing keys (the trust file every controller needs: export, import, revoke)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import StorageError
from app.core.principal import Principal
from app.core.records import UserInfo
from app.core.roles import Action
from app.services import Services
from app.services.keys import TrustedKey
from app.ui.admin_rules import admin_rules
from app.ui.dialogs.account_dialogs import AddUserDialog, ResetPasswordDialog, RolesDialog
from app.ui.dialogs.in_place import open_in_place_of
from app.ui.dialogs.reason_dialog import ReasonDialog
from app.ui.look import icon
from app.ui.permissions import apply_rules, may, refusal_text
from app.ui.styles import GOOD_STYLE, NOTE_STYLE, REFUSED_STYLE
from app.ui.task_runner import TaskRunner
from app.ui.widgets.admin_tables import KeysTable, UsersTable
from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.page import Page

TRUST_FILTER = "PlantML trusted keys (*.json);;All files (*)"

#: The name a trust file gets unless the administrator types another.
TRUST_FILE_NAME = "trusted-keys.json"


class AdminView(Page):
    """Accounts above, trusted keys below, each with its buttons; every change runs on the
    task runner through the services, which check the role again, refuse what the policy
    forbids (an administrator with a signing role, removing the last administrator) and
    audit it. A refusal is shown as the service's sentence."""

    sig_refreshed = Signal(int, int)
    """The tables were reloaded; carries the number of accounts and of keys listed."""

    sig_changed = Signal(str)
    """A change was made; carries the message shown for it."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, parent)
        self.dialog: QWidget | None = None
        self._shown_once = False

        self.jobs = JobControls(runner)
        self.jobs.sig_busy_changed.connect(lambda _busy: self._update_buttons())
        self.message_label = self.jobs.message_label
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        # ------------------------------------------------------------ accounts
        self.users_table = UsersTable()
        self.users_table.itemSelectionChanged.connect(self._update_buttons)
        self.users_note = QLabel("")
        self.users_note.setWordWrap(True)
        self.users_note.setVisible(False)
        self.add_button = QPushButton(icon("user"), "Add user...")
        self.add_button.clicked.connect(self.add_user)
        self.roles_button = QPushButton(icon("admin"), "Set roles...")
        self.roles_button.clicked.connect(self.set_roles)
        self.reset_button = QPushButton(icon("sign"), "Reset password...")
        self.reset_button.clicked.connect(self.reset_password)
        self.unlock_button = QPushButton(icon("lock"), "Unlock...")
        self.unlock_button.clicked.connect(self.unlock)
        users_box = self._box("Accounts", self.users_table, self.users_note,
                              [self.add_button, self.roles_button, self.reset_button,
                               self.unlock_button])

        # ------------------------------------------------------------ keys
        self.keys_table = KeysTable()
        self.keys_table.itemSelectionChanged.connect(self._update_buttons)
        self.keys_note = QLabel("The trust file holds the public keys of everyone who may "
                                "sign a release, and the release counters: every controller "
                                "and every other workstation needs it (controller serve "
                                "--trust).")
        self.keys_note.setWordWrap(True)
        self.export_keys_button = QPushButton(icon("export"), "Export trust file...")
        self.export_keys_button.clicked.connect(self.export_keys)
        self.import_keys_button = QPushButton(icon("import"), "Import keys...")
        self.import_keys_button.clicked.connect(self.import_keys)
        self.revoke_button = QPushButton(icon("stop"), "Revoke key...")
        self.revoke_button.clicked.connect(self.revoke_key)
        keys_box = self._box("Trusted signing keys", self.keys_table, self.keys_note,
                             [self.export_keys_button, self.import_keys_button,
                              self.revoke_button])

        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.clicked.connect(self._refresh_clicked)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(users_box)
        splitter.addWidget(keys_box)
        splitter.setStretchFactor(0, 3)  # accounts outnumber keys' owners (operators sign nothing)
        splitter.setStretchFactor(1, 2)
        bottom = QHBoxLayout()
        bottom.addWidget(self.jobs, 1)
        bottom.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        layout.addWidget(self.message_label)
        self._update_buttons()

    @staticmethod
    def _box(title: str, table: QWidget, note: QLabel, buttons: list[QPushButton]) -> QGroupBox:
        box = QGroupBox(title)
        inner = QVBoxLayout(box)
        inner.addWidget(table, 1)
        row = QHBoxLayout()
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        inner.addLayout(row)
        inner.addWidget(note)
        return box

    def action_buttons(self) -> list[QPushButton]:
        """The change buttons, accounts first."""
        return [self.add_button, self.roles_button, self.reset_button, self.unlock_button,
                self.export_keys_button, self.import_keys_button, self.revoke_button]

    # ---------------------------------------------------------------- listing

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        # Load on first sight, as the other pages do.
        if not self._shown_once:
            self._shown_once = True
            self.refresh()

    def _refresh_clicked(self, *_args: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Reload the accounts and the keys in the background (what the role may read)."""
        principal = self.principal
        read_users = may(principal, Action.USER_LIST)
        read_keys = may(principal, Action.KEYS_MANAGE) or may(principal, Action.MODEL_READ)
        if not read_users and not read_keys:
            # Not even asked: the refusal would only add noise to the audit trail.
            self.jobs.refuse(self.refresh_button, refusal_text(
                principal, Action.USER_LIST, "Viewing accounts"))
            return
        self.users_note.setText("" if read_users else refusal_text(
            principal, Action.USER_LIST, "Viewing accounts"))
        self.users_note.setVisible(not read_users)
        users, keys = self.services.users, self.services.keys

        def load() -> tuple[list[UserInfo], list[TrustedKey]]:
            return (users.list(principal) if read_users else [],
                    keys.list(principal) if read_keys else [])

        self.jobs.fetch(load, button=self.refresh_button, on_done=self._listed)

    def _listed(self, listed: tuple[list[UserInfo], list[TrustedKey]]) -> None:
        accounts, keys = listed
        self.users_table.fill(accounts)
        self.keys_table.fill(keys)
        self._update_buttons()
        self.sig_refreshed.emit(len(accounts), len(keys))

    def user_rows(self) -> list[tuple[str, ...]]:
        """The accounts table as text."""
        return self.users_table.rows()

    def key_rows(self) -> list[tuple[str, ...]]:
        """The keys table as text."""
        return self.keys_table.rows()

    def select_user(self, username: str) -> bool:
        """Select the account ``username``; False if it is not listed."""
        return self.users_table.select_key(username)

    def select_key(self, key_id: str) -> bool:
        """Select the key ``key_id``; False if it is not listed."""
        return self.keys_table.select_key(key_id)

    # ---------------------------------------------------------------- buttons

    def _update_buttons(self) -> None:
        """Enable each button the role and the selection allow; the tooltip says why not."""
        rules = admin_rules(self.users_table.selected(), self.keys_table.selected(),
                            me=self.principal.username, busy=self.jobs.running)
        apply_rules(self.principal, {getattr(self, f"{name}_button"): rule
                                     for name, rule in rules.items()})

    def _open(self, dialog: QWidget) -> QWidget:
        """Show ``dialog`` window-modal without blocking (tests drive it directly)."""
        self.dialog = open_in_place_of(self.dialog, dialog)
        return dialog

    def _changed(self, text: str) -> None:
        self.jobs.show_message(text, GOOD_STYLE)
        self.sig_changed.emit(text)
        self.refresh()

    # ---------------------------------------------------------------- accounts

    def add_user(self) -> AddUserDialog:
        """Open the dialog that adds an account."""
        dialog = AddUserDialog(self.services, self.runner, self.principal, self)
        dialog.sig_added.connect(lambda info: self._changed(
            f"user {info.username} added with the role"
            f"{'s' if len(info.roles) != 1 else ''} {', '.join(r.value for r in info.roles)}"))
        self._open(dialog)
        return dialog

    def set_roles(self) -> RolesDialog | None:
        """Open the roles dialog of the selected account."""
        user = self.users_table.selected()
        if user is None:
            return None
        dialog = RolesDialog(self.services, self.runner, self.principal, user, self)
        dialog.sig_changed.connect(lambda info: self._changed(
            f"roles of {info.username} are now {', '.join(r.value for r in info.roles)}"))
        self._open(dialog)
        return dialog

    def reset_password(self) -> ResetPasswordDialog | None:
        """Open the password reset of the selected account."""
        user = self.users_table.selected()
        if user is None:
            return None
        dialog = ResetPasswordDialog(self.services, self.runner, self.principal, user, self)

        def reset(name: str) -> None:
            if dialog.abandoned:
                self.jobs.show_message(
                    f"the password of {name} was reset, but its window was closed before the "
                    "one-time password was shown: reset it again", REFUSED_STYLE)
                self.refresh()
                return
            self._changed(f"password of {name} reset: they sign in with the one-time "
                          "password and choose their own")

        dialog.sig_reset.connect(reset)
        self._open(dialog)
        return dialog

    def unlock(self) -> ReasonDialog | None:
        """Ask for a reason and unlock the selected account."""
        user = self.users_table.selected()
        if user is None:
            return None
        unlock, principal, name = self.services.users.unlock, self.principal, user.username
        dialog = ReasonDialog(
            self.runner, title=f"Unlock {name}",
            question=f"Unlock {name}? Their failed sign-in attempts are cleared and they can "
                     "sign in again with their password.",
            confirm_text="Unlock", reason_required=False,
            reason_hint="why (optional; e.g. identity checked by phone)",
            job=lambda reason: unlock(principal, username=name, reason=reason), parent=self)
        dialog.sig_done.connect(lambda _none: self._changed(f"user {name} unlocked"))
        self._open(dialog)
        return dialog

    # ---------------------------------------------------------------- keys

    def _start_folder(self) -> str:
        drives = self.services.packages.drives()
        return str(drives[0].path) if drives else str(Path.home())

    def choose_trust_file_to_write(self) -> Path | None:
        """Ask where to write the trust file; None if cancelled. Tests replace this."""
        name, _filter = QFileDialog.getSaveFileName(
            self, "Export the trusted keys", str(Path(self._start_folder()) / TRUST_FILE_NAME),
            TRUST_FILTER, options=QFileDialog.Option.DontConfirmOverwrite)
        return Path(name) if name else None

    def choose_trust_file_to_read(self) -> Path | None:
        """Ask for the trust file to import; None if cancelled. Tests replace this."""
        name, _filter = QFileDialog.getOpenFileName(self, "Import trusted keys",
                                                    self._start_folder(), TRUST_FILTER)
        return Path(name) if name else None

    def confirm_overwrite(self, path: Path) -> bool:
        """Ask before replacing ``path``. Tests replace this."""
        answer = QMessageBox.question(
            self, "Replace the file?", f"{path} exists. Replace it with the trusted keys?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def export_keys(self) -> None:
        """Write the trust file to a chosen place (a USB stick, a share)."""
        if self.jobs.running:
            return
        path = self.choose_trust_file_to_write()
        if path is None:
            return
        if path.exists() and not path.is_dir() and not self.confirm_overwrite(path):
            self.jobs.show_message(f"not exported: {path} was kept", NOTE_STYLE)
            return
        export, principal = self.services.keys.export, self.principal

        def job() -> int:
            try:
                return export(principal, path=path)
            except OSError as exc:
                raise StorageError(f"the trust file {path} could not be written: "
                                   f"{exc.strerror or exc}") from exc

        self.jobs.run(job, what="writing the trust file", label="export of the trusted keys",
                      cancellable=False, on_done=lambda n: self._changed(
                          f"{n} trusted key{'s' if n != 1 else ''} written to {path}: copy it "
                          "to each controller and workstation"))

    def import_keys(self) -> ReasonDialog | None:
        """Trust the keys of a chosen trust file, with a reason."""
        if self.jobs.running:
            return None
        path = self.choose_trust_file_to_read()
        if path is None:
            return None
        do_import, principal = self.services.keys.import_keys, self.principal
        dialog = ReasonDialog(
            self.runner, title="Import trusted keys",
            question=f"Trust the keys in {path}? Everyone whose key it holds can then sign "
                     "releases accepted here; the revocations it holds are applied too.",
            confirm_text="Trust these keys",
            reason_hint="why these keys are trusted (required; e.g. keys of workstation B)",
            job=lambda reason: do_import(principal, path=path, reason=reason), parent=self)

        def imported(ids: list[str]) -> None:
            self._changed(f"{len(ids)} key{'s' if len(ids) != 1 else ''} added or revoked "
                          f"from {path.name}" if ids else
                          f"{path.name} held nothing new: every key in it was already trusted")

        dialog.sig_done.connect(imported)
        self._open(dialog)
        return dialog

    def revoke_key(self) -> ReasonDialog | None:
        """Revoke the selected key after a confirmation with a reason."""
        key = self.keys_table.selected()
        if key is None:
            return None
        revoke, principal, key_id = self.services.keys.revoke, self.principal, key.key_id
        dialog = ReasonDialog(
            self.runner, title=f"Revoke key {key_id}",
            question=f"Revoke the key {key_id} of {key.user}? Every package it signed is "
                     "refused from now on, here and (after the next trust file) on the "
                     "controllers. This cannot be undone.",
            confirm_text="Revoke",
            reason_hint="why the key is revoked (required; e.g. laptop lost)",
            job=lambda reason: revoke(principal, key_id=key_id, reason=reason), parent=self)
        dialog.sig_done.connect(lambda _k: self._changed(
            f"key {key_id} of {key.user} revoked: export the trust file again for the "
            "controllers"))
        self._open(dialog)
        return dialog

    @property
    def job_running(self) -> bool:
        """True while an export runs."""
        return self.jobs.running
