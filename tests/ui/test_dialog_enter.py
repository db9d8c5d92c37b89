"""Enter in the sign-in and signing dialogs: one submission per key press, a typed password
kept across an unrelated validation error, and Enter still working after a refusal."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget

from app.core.roles import Role
from app.services.audit import AuditFilter
from app.ui.dialogs.approval_dialog import ApprovalDialog
from app.ui.dialogs.login_dialog import LoginDialog
from app.ui.dialogs.propose_dialog import ProposeDialog
from app.ui.model_details import load_details
from tests.services.release_kit import register
from tests.ui.conftest import PASSWORDS
from tests.ui.models_kit import propose


def _shown(qtbot, dialog: QWidget) -> QWidget:
    """Show ``dialog`` as the active window, as a user sees it (keys go to its focus)."""
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5000)
    return dialog


def _enter(qtbot, field: QWidget) -> None:
    """Put the cursor in ``field`` and press Enter where the keyboard focus is."""
    field.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is field, timeout=5000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)


def _count_submissions(monkeypatch, runner) -> list[object]:
    """Every job handed to the runner, in order (the runner still runs them)."""
    seen: list[object] = []
    real = runner.submit

    def spy(fn, **kwargs):
        seen.append(fn)
        return real(fn, **kwargs)

    monkeypatch.setattr(runner, "submit", spy)
    return seen


def _approval(qtbot, services, runner, approver) -> ApprovalDialog:
    dialog = ApprovalDialog(services, runner, approver,
                            load_details(services, approver, "pump-7:v1"))
    return _shown(qtbot, dialog)


def test_enter_without_a_meaning_names_the_meaning_and_keeps_the_password(
        qtbot, monkeypatch, workspace, people, runner):
    sv = workspace.services
    register(sv, people["erin"])
    propose(sv, people["erin"])
    dialog = _approval(qtbot, sv, runner, people["avery"])
    submitted = _count_submissions(monkeypatch, runner)
    dialog.reason_edit.setText("evidence reviewed")
    dialog.password_edit.setText(PASSWORDS["avery"])

    _enter(qtbot, dialog.password_edit)
    assert dialog.error_label.text() == "choose approved or rejected"
    assert dialog.password_edit.text() == PASSWORDS["avery"], \
        "an unrelated validation error does not clear the typed password"
    assert submitted == []

    dialog.approve_radio.setChecked(True)
    with qtbot.waitSignal(dialog.sig_signed, timeout=5000):
        _enter(qtbot, dialog.password_edit)
    assert runner.wait_idle(5000)
    assert len(submitted) == 1, "one Enter signs once"
    assert dialog.password_edit.text() == "", "the password is gone once it was used"
    decisions = sv.audit.show(people["aud"], AuditFilter(action="model.approve"))
    assert len(decisions) == 1
    assert sv.registry.show(people["aud"], ref="pump-7:v1").state == "approved"


def test_a_wrong_signing_password_is_cleared_and_enter_works_again(
        qtbot, monkeypatch, workspace, people, runner):
    sv = workspace.services
    register(sv, people["erin"])
    dialog = ProposeDialog(sv, runner, people["erin"],
                           load_details(sv, people["erin"], "pump-7:v1"))
    _shown(qtbot, dialog)
    submitted = _count_submissions(monkeypatch, runner)
    dialog.reason_edit.setText("ready")
    dialog.password_edit.setText(PASSWORDS["erin"])
    _enter(qtbot, dialog.password_edit)
    assert dialog.error_label.text() == "name at least one hardware id"
    assert dialog.password_edit.text() == PASSWORDS["erin"]

    dialog.hardware_edit.setText("EDGE-01")
    dialog.password_edit.setText("wrong-password")
    _enter(qtbot, dialog.password_edit)
    assert runner.wait_idle(5000)
    assert len(submitted) == 1
    assert "password" in dialog.error_label.text()
    assert dialog.password_edit.text() == "", "a refused password is not left in the field"

    dialog.password_edit.setText(PASSWORDS["erin"])
    with qtbot.waitSignal(dialog.sig_signed, timeout=5000):
        _enter(qtbot, dialog.password_edit)
    assert runner.wait_idle(5000)
    assert len(submitted) == 2


def test_enter_signs_in_after_a_wrong_password(qtbot, monkeypatch, workspace, runner):
    dialog = LoginDialog(workspace.services, runner)
    _shown(qtbot, dialog)
    submitted = _count_submissions(monkeypatch, runner)
    dialog.username_edit.setText("erin")
    dialog.password_edit.setText("not-the-password")
    _enter(qtbot, dialog.password_edit)
    assert runner.wait_idle(5000)
    assert "invalid user name or password" in dialog.error_label.text()
    assert dialog.sign_in_button.isDefault(), "Sign in stays the default button"

    dialog.password_edit.setText(PASSWORDS["erin"])
    _enter(qtbot, dialog.password_edit)
    qtbot.waitUntil(lambda: dialog.principal is not None, timeout=5000)
    assert dialog.principal.roles == frozenset({Role.ENGINEER})
    assert len(submitted) == 2, "one submission per Enter"


def test_enter_with_an_empty_password_keeps_the_user_name(qtbot, workspace, runner):
    dialog = LoginDialog(workspace.services, runner)
    _shown(qtbot, dialog)
    dialog.username_edit.setText("erin")
    _enter(qtbot, dialog.password_edit)
    assert "password" in dialog.error_label.text()
    assert dialog.username_edit.text() == "erin"
    assert not runner.busy
