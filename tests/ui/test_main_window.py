"""Main window: navigation, pages, status bar with user and alarm."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from app.ui.main_window import MainWindow
from app.ui.pages.audit_view import AuditView
from app.ui.pages.models_view import ModelsView
from tests.services.release_kit import register


@pytest.fixture
def window(qtbot, workspace, runner) -> MainWindow:
    win = MainWindow(workspace.services, runner, workspace.admin)
    qtbot.addWidget(win)
    win.show()
    assert runner.wait_idle(5000)
    return win


def _click_nav(qtbot, window: MainWindow, name: str) -> None:
    item = window.nav.findItems(name, Qt.MatchFlag.MatchExactly)[0]
    rect = window.nav.visualItemRect(item)
    qtbot.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_navigation_lists_the_pages_and_opens_on_audit(window):
    names = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert names == ["Data", "Train", "Models", "Controllers", "Audit"]
    assert window.current_page_name() == "Audit"
    assert isinstance(window.stack.currentWidget(), AuditView)


def test_models_page_lists_the_registry_when_first_shown(qtbot, workspace, runner):
    register(workspace.services, workspace.engineer)
    win = MainWindow(workspace.services, runner, workspace.engineer)
    qtbot.addWidget(win)
    win.show()
    assert runner.wait_idle(5000)
    assert isinstance(win.models_view, ModelsView) and win.pages["Models"] is win.models_view
    assert win.models_view.version_refs() == [], "nothing is loaded before the page is shown"
    with qtbot.waitSignal(win.models_view.sig_refreshed, timeout=5000) as refreshed:
        _click_nav(qtbot, win, "Models")
    assert runner.wait_idle(5000)
    assert refreshed.args == [1]
    assert win.models_view.version_refs() == ["pump-7:v1"]
    assert win.models_view.details is not None


def test_status_bar_names_the_user_and_roles(qtbot, workspace, runner):
    win = MainWindow(workspace.services, runner, workspace.auditor)
    qtbot.addWidget(win)
    assert win.user_label.text() == "Signed in as aud (auditor)"
    assert win.alarm_label.isHidden()
    assert runner.wait_idle(5000)


def test_workspace_alarm_shows_in_red_after_the_next_job(window, workspace, runner):
    assert window.alarm_label.isHidden()
    workspace.services.health.alarm = "ALARM: the workspace is read-only (test)"
    runner.submit(lambda: None, on_done=lambda _v: None, on_error=pytest.fail)
    assert runner.wait_idle(3000)
    assert not window.alarm_label.isHidden()
    assert window.alarm_label.text() == "ALARM: the workspace is read-only (test)"
    assert "#b00020" in window.alarm_label.styleSheet()


def test_closing_waits_for_the_running_job(qtbot, window, runner):
    started = threading.Event()
    finished = []

    def job(cancel):
        started.set()
        for _ in range(400):
            cancel.raise_if_cancelled()
            threading.Event().wait(0.005)
        finished.append("ran to the end")

    errors = []
    runner.submit(job, on_done=lambda _v: None, on_error=errors.append)
    assert started.wait(2)
    window.close()
    assert not runner.busy, "close returned only after the job ended"
    assert finished == [] and [type(e).__name__ for e in errors] == ["Cancelled"]
