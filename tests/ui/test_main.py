"""``run_gui``: opening the workspace, the sign-in, the main window, and the exit code."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

from app.core.errors import PermissionDenied
from app.services import open_services
from app.services.audit import AuditFilter
from app.ui import main as gui_main
from app.ui.dialogs.login_dialog import LoginDialog
from app.ui.dialogs.selftest_dialog import SelfTestDialog
from app.ui.main_window import MainWindow
from app.ui.task_runner import INTERNAL_ERROR
from tests.ui.conftest import CHEAP, PASSWORDS


@pytest.fixture
def shown_errors(monkeypatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(gui_main, "show_error", lambda _parent, text: shown.append(text))
    return shown


def test_a_damaged_workspace_is_reported_and_exits_1(qapp, tmp_path, shown_errors):
    home = tmp_path / "ws"
    home.mkdir()
    (home / "plantml.db").write_bytes(b"this is not a database" * 100)
    assert gui_main.run_gui(home=home) == 1
    assert len(shown_errors) == 1 and "damaged" in shown_errors[0]
    assert "Traceback" not in shown_errors[0]


def test_a_file_in_the_way_is_reported_and_exits_1(qapp, tmp_path, shown_errors):
    blocker = tmp_path / "ws"
    blocker.write_text("not a folder")
    assert gui_main.run_gui(home=blocker) == 1
    assert shown_errors and shown_errors[0].startswith("the workspace could not be opened")


def test_first_run_creates_the_workspace_and_cancel_exits_0(qapp, tmp_path, monkeypatch):
    seen = []

    def cancel(dialog):
        assert dialog.runner.wait_idle(10_000), "the workspace opens behind the dialog"
        seen.append(dialog.first_run)
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(LoginDialog, "exec", cancel)
    hook = sys.excepthook
    handlers = list(logging.getLogger().handlers)
    assert gui_main.run_gui(home=tmp_path / "new") == 0
    assert (tmp_path / "new" / "plantml.db").is_file()
    assert seen == [True], "the first run asks for the administrator"
    assert sys.excepthook is hook and logging.getLogger().handlers == handlers


@pytest.fixture
def admin_home(tmp_path) -> Path:
    home = tmp_path / "ws"
    with open_services(home, create=True, hash_params=CHEAP) as sv:
        sv.auth.bootstrap_admin(username="admin", password="admin-pass-1234")
        sv.users.add(sv.auth.login(username="admin", password="admin-pass-1234"),
                     username="erin", password=PASSWORDS["erin"], roles=["engineer"])
    return home


@pytest.fixture
def no_first_start(monkeypatch) -> None:
    """The workspace had its first-start self-test on this workstation already."""
    monkeypatch.setattr(gui_main, "selftest_due", lambda _home: False)


def _sign_in_as(who: str, password: str, log: list[str] | None = None):
    """A LoginDialog.exec that signs ``who`` in (once; after that it cancels)."""
    def sign_in(dialog):
        if log is not None:
            log.append(who)
            if len(log) > 1:
                return QDialog.DialogCode.Rejected
        # The dialog is up before the workspace is open; Sign in works once it is.
        assert dialog.runner.wait_idle(10_000) and dialog.services is not None
        dialog.username_edit.setText(who)
        dialog.password_edit.setText(password)
        dialog.submit()
        assert dialog.runner.wait_idle(5000)
        return dialog.result()
    return sign_in


def _when_window(action):
    """Poll until a main window is up (however long sign-in takes), then ``action(window)``
    once per new window."""
    seen: list[MainWindow] = []
    poll = QTimer(interval=20)

    def check():
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible() and widget not in seen:
                seen.append(widget)
                action(widget)

    poll.timeout.connect(check)
    poll.start()
    return poll, seen


def test_sign_in_then_main_window_then_close_exits_0(qapp, admin_home, monkeypatch,
                                                     no_first_start):
    windows = []

    def close(window):
        windows.append(window.user_label.text())
        assert "QListWidget#navigation" in QApplication.instance().styleSheet(), \
            "the bundled stylesheet is applied"
        window.close()

    poll, _seen = _when_window(close)
    monkeypatch.setattr(LoginDialog, "exec", _sign_in_as("admin", "admin-pass-1234"))
    assert gui_main.run_gui(home=admin_home) == 0
    poll.stop()
    assert windows == ["Signed in as admin (admin)"]
    assert (admin_home / "logs" / gui_main.LOG_NAME).is_file()
    assert QApplication.instance().styleSheet() == "", "the look is removed again"
    assert QApplication.instance().quitOnLastWindowClosed()


def test_the_sign_in_is_up_before_the_workspace_is_open(qapp, admin_home, monkeypatch):
    import app.services

    release = threading.Event()
    real_open = app.services.open_services

    def slow_open(*args, **kwargs):
        assert release.wait(30)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(app.services, "open_services", slow_open)
    seen = []

    def look(dialog):
        dialog.show()
        QApplication.processEvents()
        seen.append((dialog.isVisible(), dialog.sign_in_button.isEnabled(),
                     dialog.intro_label.text()))
        dialog.username_edit.setText("admin")  # typing is possible meanwhile
        dialog.password_edit.setText("admin-pass-1234")
        dialog.submit()  # ... but signing in waits for the workspace
        assert dialog.principal is None and not dialog.busy
        release.set()
        assert dialog.runner.wait_idle(10_000)
        seen.append((dialog.sign_in_button.isEnabled(), dialog.intro_label.text()))
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(LoginDialog, "exec", look)
    assert gui_main.run_gui(home=admin_home) == 0
    assert seen == [(True, False, f"Opening the workspace at {admin_home}…"),
                    (True, f"Sign in to the workspace at {admin_home}.")]


def test_sign_out_brings_the_sign_in_back(qapp, admin_home, monkeypatch, no_first_start):
    asked: list[str] = []
    poll, seen = _when_window(lambda window: window.menu_actions.sign_out.trigger())
    monkeypatch.setattr(LoginDialog, "exec", _sign_in_as("admin", "admin-pass-1234", asked))
    assert gui_main.run_gui(home=admin_home) == 0, "cancelling the second sign-in exits"
    poll.stop()
    assert asked == ["admin", "admin"] and len(seen) == 1
    with open_services(admin_home) as sv:
        events = sv.audit.show(sv.auth.login(username="admin", password="admin-pass-1234"),
                               AuditFilter(action="logout"))
    assert [(e.user, e.reason) for e in events] == [("admin", "signed out")]


def test_switch_user_opens_the_window_for_the_new_user(qapp, admin_home, monkeypatch,
                                                       no_first_start):
    def act(window):
        if window.principal.username == "admin":
            window.menu_actions.switch_user.trigger()
            window.dialog.username_edit.setText("erin")
            window.dialog.password_edit.setText(PASSWORDS["erin"])
            window.dialog.submit()
        else:
            window.close()

    poll, seen = _when_window(act)
    monkeypatch.setattr(LoginDialog, "exec", _sign_in_as("admin", "admin-pass-1234"))
    assert gui_main.run_gui(home=admin_home) == 0
    poll.stop()
    assert [w.principal.username for w in seen] == ["admin", "erin"]
    assert seen[1].current_page_name() == "Data", "the engineer lands on Data"


def test_closing_during_a_long_job_exits_once_the_job_saw_the_cancel(qapp, admin_home,
                                                                     monkeypatch,
                                                                     no_first_start):
    events: list[str] = []
    hidden: list[bool] = []
    started = threading.Event()

    def long_job(cancel):
        started.set()
        for _ in range(6000):  # a minute unless cancelled
            if cancel.cancelled:
                events.append("the job saw the cancel")
                cancel.raise_if_cancelled()
            threading.Event().wait(0.01)
        events.append("the job ran to the end")

    def close_during_job(window):
        window.runner.submit(long_job, on_done=lambda _v: None, on_error=lambda _e: None)
        assert started.wait(5)
        window.close()
        # Still busy: the job's end is delivered on this (the GUI) thread, after this call.
        hidden.append(not window.isVisible() and window.runner.busy)

    poll, _seen = _when_window(close_during_job)
    monkeypatch.setattr(LoginDialog, "exec", _sign_in_as("admin", "admin-pass-1234"))
    assert gui_main.run_gui(home=admin_home) == 0
    events.append("run_gui returned")
    poll.stop()
    assert hidden == [True], "the window went at once, while the job still ran"
    assert events == ["the job saw the cancel", "run_gui returned"]


def test_the_first_start_of_a_workspace_runs_the_self_test(qapp, admin_home, monkeypatch):
    lines: list[list[str]] = []

    def after_self_test(window):
        dialog = window.dialog
        assert isinstance(dialog, SelfTestDialog) and dialog.isVisible()

        def finished(_checks):
            lines.append(dialog.lines())
            window.close()
        dialog.sig_finished.connect(finished)

    poll, _seen = _when_window(lambda window: QTimer.singleShot(0, lambda: after_self_test(
        window)))
    monkeypatch.setattr(LoginDialog, "exec", _sign_in_as("admin", "admin-pass-1234"))
    assert gui_main.selftest_due(admin_home)
    assert gui_main.run_gui(home=admin_home) == 0
    poll.stop()
    [shown] = lines
    names = [line.split(":", 1)[0].split(None, 1)[1] for line in shown]
    assert names == ["native kernels", "onnxruntime", "Qt", "serial ports", "workspace",
                     "clock", "disk space"]
    passed = all(line.startswith("ok") for line in shown)
    assert gui_main.selftest_due(admin_home) is not passed, "a pass is remembered"


def test_an_escaped_exception_is_logged_and_shown_briefly(shown_errors, caplog):
    try:
        raise ValueError("private detail")
    except ValueError as exc:
        info = (type(exc), exc, exc.__traceback__)
    with caplog.at_level(logging.ERROR, logger="app.ui.main"):
        gui_main._excepthook(*info)
    assert shown_errors == [INTERNAL_ERROR]
    assert "private detail" in caplog.text

    gui_main._excepthook(PermissionDenied, PermissionDenied("not allowed"), None)
    assert shown_errors[-1] == "not allowed"
