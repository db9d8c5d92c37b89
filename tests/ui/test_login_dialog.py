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
