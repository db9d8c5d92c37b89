"""``run_gui``: opening the workspace, the sign-in, the main window, and the exit code."""

from __future__ import annotations

import logging
import sys

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

from app.core.errors import PermissionDenied
from app.services import open_services
from app.ui import main as gui_main
from app.ui.dialogs.login_dialog import LoginDialog
from app.ui.main_window import MainWindow
from app.ui.task_runner import INTERNAL_ERROR
from tests.ui.conftest import CHEAP


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
        seen.append(dialog.first_run)
        return QDialog.DialogCode.Rejected

    monkeypatch.setattr(LoginDialog, "exec", cancel)
    hook = sys.excepthook
    handlers = list(logging.getLogger().handlers)
    assert gui_main.run_gui(home=tmp_path / "new") == 0
    assert (tmp_path / "new" / "plantml.db").is_file()
    assert seen == [True], "the first run asks for the administrator"
    assert sys.excepthook is hook and logging.getLogger().handlers == handlers


def test_sign_in_then_main_window_then_close_exits_0(qapp, tmp_path, monkeypatch):
    home = tmp_path / "ws"
    with open_services(home, create=True, hash_params=CHEAP) as sv:
        sv.auth.bootstrap_admin(username="admin", password="admin-pass-1234")

    def sign_in(dialog):
        dialog.username_edit.setText("admin")
        dialog.password_edit.setText("admin-pass-1234")
        dialog.submit()
        assert dialog.runner.wait_idle(5000)
        return dialog.result()

    windows = []
    # Polled until the main window is up, however long sign-in takes on a busy machine.
    poll = QTimer(interval=20)

    def close_main_window():
        for widget in QApplication.topLevelWidgets():
            if isinstance(widget, MainWindow) and widget.isVisible():
                poll.stop()
                windows.append(widget.user_label.text())
                # Closing the last window ends app.exec(), as for a user. (QApplication.quit()
                # would leave the shared test QApplication refusing to run event loops.)
                widget.close()

    poll.timeout.connect(close_main_window)
    monkeypatch.setattr(LoginDialog, "exec", sign_in)
    poll.start()
    assert gui_main.run_gui(home=home) == 0
    assert windows == ["Signed in as admin (admin)"]
    assert (home / "logs" / gui_main.LOG_NAME).is_file()


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
