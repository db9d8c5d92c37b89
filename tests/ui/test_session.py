"""Ending a session: sign out and switch user (menu and lock dialog), audited through the
services; closing during a job hides the window at once and stops the job."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtWidgets import QApplication

from app.core.errors import Cancelled
from app.services.audit import AuditFilter
from app.ui.main_window import MainWindow
from app.ui.session_end import EndKind
from app.ui.widgets.stopping_notice import StoppingNotice
from tests.ui.conftest import PASSWORDS


def open_window(qtbot, workspace, runner, principal, **kwargs) -> MainWindow:
    win = MainWindow(workspace.services, runner, principal, **kwargs)
    qtbot.addWidget(win)
    win.show()
    assert runner.wait_idle(5000)
    return win


def _logouts(workspace) -> list[tuple[str, str]]:
    events = workspace.services.audit.show(workspace.admin, AuditFilter(action="logout"))
    return [(e.user, e.reason) for e in reversed(events)]


def _sign_in(qtbot, dialog, runner, who: str) -> None:
    dialog.username_edit.setText(who)
    dialog.password_edit.setText(PASSWORDS[who])
    dialog.submit()
    assert runner.wait_idle(5000)


def test_sign_out_from_the_menu_is_audited_and_ends_the_session(qtbot, workspace, runner):
    win = open_window(qtbot, workspace, runner, workspace.engineer)
    with qtbot.waitSignal(win.sig_session_ended, timeout=5000) as ended:
        win.menu_actions.sign_out.trigger()
    assert ended.args[0].kind is EndKind.SIGN_OUT and ended.args[0].next_principal is None
    assert not win.isVisible()
    assert _logouts(workspace) == [("erin", "signed out")]


def test_switch_user_signs_the_other_user_in_and_this_one_out(qtbot, workspace, people,
                                                              runner):
    win = open_window(qtbot, workspace, runner, people["erin"])
    win.menu_actions.switch_user.trigger()
    dialog = win.dialog
    assert dialog.isVisible() and "session of erin ends" in dialog.intro_label.text()
    with qtbot.waitSignal(win.sig_session_ended, timeout=5000) as ended:
        _sign_in(qtbot, dialog, runner, "avery")
    outcome = ended.args[0]
    assert outcome.kind is EndKind.SWITCH and outcome.next_principal.username == "avery"
    assert _logouts(workspace) == [("erin", "switched user to avery")]
    logins = workspace.services.audit.show(workspace.admin, AuditFilter(action="login"))
    assert (logins[0].user, logins[0].result) == ("avery", "ok")


def test_a_cancelled_switch_leaves_the_session_as_it_was(qtbot, workspace, runner):
    win = open_window(qtbot, workspace, runner, workspace.engineer)
    win.menu_actions.switch_user.trigger()
    win.dialog.reject()
    assert win.isVisible() and win.outcome is None
    assert _logouts(workspace) == []


def test_the_lock_dialog_signs_out_without_the_locked_users_password(qtbot, workspace,
                                                                     runner):
    win = open_window(qtbot, workspace, runner, workspace.engineer)
    win.menu_actions.lock.trigger()
    assert win.locked and not win.centralWidget().isVisible()
    assert not win.menuBar().isEnabled()
    lock = win.unlock_dialog
    with qtbot.waitSignal(win.sig_session_ended, timeout=5000) as ended:
        lock.sign_out_button.click()
    assert ended.args[0].kind is EndKind.SIGN_OUT
    assert not lock.isVisible() and not win.isVisible()
    events = workspace.services.audit.show(workspace.admin, AuditFilter(user="erin"))
    assert [e.action for e in events[:2]] == ["logout", "session.lock"]
    assert events[1].reason == "locked by the user"


def test_the_lock_dialog_switches_user(qtbot, workspace, people, runner):
    win = open_window(qtbot, workspace, runner, people["erin"])
    win.lock("locked by the user")
    win.unlock_dialog.switch_button.click()
    dialog = win.dialog
    assert dialog.isVisible()
    with qtbot.waitSignal(win.sig_session_ended, timeout=5000) as ended:
        _sign_in(qtbot, dialog, runner, "omar")
    assert ended.args[0].next_principal.username == "omar"
    assert _logouts(workspace) == [("erin", "switched user to omar")]


def test_closing_during_a_job_hides_the_window_and_says_stopping(qtbot, workspace, runner):
    win = open_window(qtbot, workspace, runner, workspace.auditor)
    started, observed, release = threading.Event(), threading.Event(), threading.Event()
    seen: list[str] = []

    def long_job(cancel):
        started.set()
        for _ in range(6000):  # a minute, unless cancelled
            if cancel.cancelled:
                observed.set()
                release.wait(30)  # winds down as slowly as the test says
                cancel.raise_if_cancelled()
            threading.Event().wait(0.01)
        seen.append("ran to the end")

    errors: list[BaseException] = []
    ended = []
    win.sig_session_ended.connect(ended.append)
    runner.submit(long_job, on_done=lambda _v: None, on_error=errors.append)
    assert started.wait(5)
    win.close()
    try:
        assert not win.isVisible(), "the window goes at once"
        notice = win.stopping_notice
        assert isinstance(notice, StoppingNotice) and notice.isVisible()
        assert notice.message_label.text() == "Stopping the job…"
        assert observed.wait(5), "the job was cancelled"
        notice.close()
        assert notice.isVisible(), "the notice stays until the job has stopped"
        assert ended == [], "the session ends only once the job has stopped"
    finally:
        release.set()
    qtbot.waitUntil(lambda: bool(ended), timeout=5000)
    assert ended[0].kind is EndKind.QUIT
    assert seen == [] and [type(e) for e in errors] == [Cancelled]
    assert not [w for w in QApplication.topLevelWidgets()
                if isinstance(w, StoppingNotice) and w.isVisible()]
    assert _logouts(workspace) == [("aud", "closed PlantML")]


def test_closing_stops_watching_so_no_new_poll_keeps_it_open(qtbot, workspace, people,
                                                             runner, monkeypatch):
    win = open_window(qtbot, workspace, runner, people["omar"])
    view = win.controllers_view
    polls: list[int] = []
    view.watch.timer.setInterval(10)
    monkeypatch.setattr(view.table, "selected_found", lambda: "tcp:127.0.0.1:1")

    def slow_poll():
        polls.append(1)
        threading.Event().wait(0.05)
        raise Cancelled("no controller in this test")

    monkeypatch.setattr(workspace.services.controllers, "watch",
                        lambda _p, *, target: slow_poll())
    view.start_watch()
    qtbot.waitUntil(lambda: len(polls) >= 2, timeout=5000)
    with qtbot.waitSignal(win.sig_session_ended, timeout=5000):
        win.close()
    count = len(polls)
    assert not view.watch.timer.isActive() and view.watching is None
    assert runner.wait_idle(1000) and len(polls) == count


@pytest.mark.parametrize("who", ["erin", "aud"])
def test_every_session_end_is_audited_once(qtbot, workspace, people, runner, who):
    win = open_window(qtbot, workspace, runner, people[who])
    with qtbot.waitSignal(win.sig_session_ended, timeout=5000):
        win.close()
    win.close()  # a second close of a closed window records nothing more
    assert runner.wait_idle(3000)
    assert _logouts(workspace) == [(who, "closed PlantML")]
