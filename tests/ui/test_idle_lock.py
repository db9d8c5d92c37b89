"""T27: the session locks after the configured idle time; only its user's password unlocks
it; both are audited."""

from __future__ import annotations

from app.services.audit import AuditFilter
from app.ui.main_window import MainWindow
from tests.ui.conftest import PASSWORDS


def test_idle_session_locks_and_only_the_password_unlocks(qtbot, workspace, runner):
    win = MainWindow(workspace.services, runner, workspace.auditor, idle_lock_s=0.3)
    win.idle_watch._timer.setInterval(50)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: win.locked, timeout=3000)
    assert not win.centralWidget().isVisible()
    dialog = win.unlock_dialog
    dialog.reject()  # Escape does not get past the lock
    assert win.locked and dialog.isVisible()
    dialog.password_edit.setText("wrong-password")
    dialog.unlock_button.click()
    qtbot.waitUntil(lambda: bool(dialog.error_label.text()), timeout=3000)
    assert "invalid user name or password" in dialog.error_label.text()
    assert win.locked
    dialog.password_edit.setText(PASSWORDS["aud"])
    with qtbot.waitSignal(dialog.sig_unlocked, timeout=3000):
        dialog.unlock_button.click()
    assert not win.locked and win.centralWidget().isVisible()
    assert runner.wait_idle(3000)
    events = workspace.services.audit.show(workspace.admin, AuditFilter(action="session."))
    assert [e.action for e in reversed(events)] == ["session.lock", "session.unlock"]
    assert events[-1].reason.startswith("idle for")


def test_lock_is_off_when_the_setting_is_zero(qtbot, workspace, runner):
    win = MainWindow(workspace.services, runner, workspace.auditor, idle_lock_s=0)
    qtbot.addWidget(win)
    win.show()
    assert not win.idle_watch._timer.isActive() and not win.locked
