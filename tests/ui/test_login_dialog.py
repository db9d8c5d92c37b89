"""Sign-in dialog: wrong and right passwords, and the first-run administrator."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from app.core.roles import Role
from app.ui.dialogs.login_dialog import LoginDialog
from tests.ui.conftest import PASSWORDS


def _dialog(qtbot, services, runner) -> LoginDialog:
    dialog = LoginDialog(services, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def _sign_in(qtbot, dialog, runner, username, password, repeat=None) -> None:
    dialog.username_edit.setText(username)
    dialog.password_edit.setText(password)
    if repeat is not None:
        dialog.repeat_edit.setText(repeat)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert runner.wait_idle(5000)


def _acknowledge_code(qtbot, dialog) -> str:
    """The recovery code is on screen; tick "written down" and close. Returns the code."""
    code_dialog = dialog.code_dialog
    assert code_dialog is not None and code_dialog.isVisible()
    assert dialog.result() != QDialog.DialogCode.Accepted, "not signed in before acknowledging"
    assert not code_dialog.close_button.isEnabled(), "Done waits for the written-down box"
    code_dialog.reject()
    assert code_dialog.isVisible(), "Escape does not lose the only sight of the code"
    code_dialog.written_box.setChecked(True)
    qtbot.mouseClick(code_dialog.close_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=5000)
    return code_dialog.code_label.text()


def test_wrong_password_shows_the_error_and_no_principal(qtbot, workspace, runner):
    dialog = _dialog(qtbot, workspace.services, runner)
    assert not dialog.first_run
    assert dialog.repeat_edit.isHidden()
    _sign_in(qtbot, dialog, runner, "aud", "not-the-password")
    assert "invalid user name or password" in dialog.error_label.text()
    assert dialog.principal is None
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.password_edit.text() == "", "a refused password is not left in the field"
    assert dialog.sign_in_button.isEnabled()
    events = workspace.services.audit.show(workspace.admin)
    assert (events[0].action, events[0].object, events[0].result) == \
        ("login", "user:aud", "refused")


def test_right_password_accepts_with_the_principal(qtbot, workspace, runner):
    dialog = _dialog(qtbot, workspace.services, runner)
    with qtbot.waitSignal(dialog.sig_signed_in, timeout=5000) as signed:
        _sign_in(qtbot, dialog, runner, "aud", PASSWORDS["aud"])
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.principal is not None
    assert dialog.principal.username == "aud"
    assert dialog.principal.roles == frozenset({Role.AUDITOR})
    assert signed.args == [dialog.principal]


def test_enter_in_the_password_field_signs_in(qtbot, workspace, runner):
    dialog = _dialog(qtbot, workspace.services, runner)
    dialog.username_edit.setText("erin")
    dialog.password_edit.setText(PASSWORDS["erin"])
    qtbot.keyClick(dialog.password_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.principal is not None, timeout=5000)
    assert dialog.principal.roles == frozenset({Role.ENGINEER})


def test_empty_fields_are_refused_without_asking_the_services(qtbot, workspace, runner):
    dialog = _dialog(qtbot, workspace.services, runner)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    assert "user name and password" in dialog.error_label.text()
    assert not runner.busy
    assert dialog.principal is None


def test_first_run_creates_the_administrator(qtbot, empty_services, runner):
    services = empty_services
    dialog = _dialog(qtbot, services, runner)
    assert dialog.first_run
    assert not dialog.repeat_edit.isHidden()
    assert "administrator" in dialog.windowTitle()

    _sign_in(qtbot, dialog, runner, "boss", "boss-pass-1234", repeat="boss-pass-9999")
    assert "differ" in dialog.error_label.text()
    assert services.auth.needs_admin(), "nothing is created while the passwords differ"

    _sign_in(qtbot, dialog, runner, "boss", "short", repeat="short")
    assert "at least 8 characters" in dialog.error_label.text()
    assert dialog.principal is None

    _sign_in(qtbot, dialog, runner, "boss", "boss-pass-1234", repeat="boss-pass-1234")
    _acknowledge_code(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.principal is not None
    assert dialog.principal.username == "boss"
    assert dialog.principal.roles == frozenset({Role.ADMIN})
    assert not services.auth.needs_admin()
    assert services.auth.login(username="boss", password="boss-pass-1234").username == "boss"


def test_closing_while_checking_ignores_the_late_answer(qtbot, workspace, runner):
    dialog = _dialog(qtbot, workspace.services, runner)
    dialog.username_edit.setText("aud")
    dialog.password_edit.setText(PASSWORDS["aud"])
    dialog.submit()
    assert dialog.busy
    dialog.reject()
    assert runner.wait_idle(5000)
    assert dialog.principal is None
    assert dialog.result() == QDialog.DialogCode.Rejected


def test_first_run_shows_the_recovery_code_once_and_it_recovers_the_admin(
        qtbot, empty_services, runner):
    services = empty_services
    dialog = _dialog(qtbot, services, runner)
    _sign_in(qtbot, dialog, runner, "boss", "boss-pass-1234", repeat="boss-pass-1234")
    code = _acknowledge_code(qtbot, dialog)
    assert len(code) >= 16
    events = services.audit.show(dialog.principal)
    assert "recovery.issue" in [e.action for e in events]

    # The code shown is the one that works: recover the administrator from the sign-in.
    again = _dialog(qtbot, services, runner)
    assert again.code_edit.isHidden()
    qtbot.mouseClick(again.recover_button, Qt.MouseButton.LeftButton)
    assert not again.code_edit.isHidden() and not again.repeat_edit.isHidden()
    again.code_edit.setText("WRONG-CODE-0000")
    _sign_in(qtbot, again, runner, "boss", "boss-new-5678", repeat="boss-new-5678")
    assert "recovery code" in again.error_label.text()
    assert again.principal is None
    again.code_edit.setText(code)
    _sign_in(qtbot, again, runner, "boss", "boss-new-5678", repeat="boss-new-5678")
    new_code = _acknowledge_code(qtbot, again)
    assert new_code != code, "the used code is replaced by a new one, shown once"
    assert again.principal.username == "boss"
    assert services.auth.login(username="boss", password="boss-new-5678").username == "boss"


def test_a_reset_password_asks_for_the_users_own(qtbot, workspace, runner):
    sv = workspace.services
    sv.users.set_password(workspace.admin, username="erin", password="temp-pass-1234")
    dialog = _dialog(qtbot, sv, runner)
    _sign_in(qtbot, dialog, runner, "erin", "temp-pass-1234")
    assert dialog.principal is None
    assert not dialog.repeat_edit.isHidden(), "asks for a new password, twice"
    assert dialog.sign_in_button.text() == "Set password"
    assert dialog.username_edit.isReadOnly()
    _sign_in(qtbot, dialog, runner, "erin", "temp-pass-1234", repeat="temp-pass-1234")
    assert "own" in dialog.error_label.text(), "the temporary password is not accepted as own"
    _sign_in(qtbot, dialog, runner, "erin", "erin-own-5678", repeat="erin-own-5678")
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.principal.username == "erin"
    assert sv.auth.login(username="erin", password="erin-own-5678").username == "erin"
