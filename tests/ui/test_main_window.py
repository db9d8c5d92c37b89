"""Main window: navigation, lazy pages, landing per role, header and status bar, geometry."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import QPoint, QSize, Qt

from app.core.errors import PermissionDenied
from app.ui.main_window import MainWindow
from app.ui.navigation import PAGE_NAMES
from app.ui.pages.audit_view import AuditView
from app.ui.pages.models_view import ModelsView
from tests.services.release_kit import register


def open_window(qtbot, workspace, runner, principal, **kwargs) -> MainWindow:
    win = MainWindow(workspace.services, runner, principal, **kwargs)
    qtbot.addWidget(win)
    win.show()
    assert runner.wait_idle(5000)
    return win


@pytest.fixture
def window(qtbot, workspace, runner) -> MainWindow:
    return open_window(qtbot, workspace, runner, workspace.admin)


def _click_nav(qtbot, window: MainWindow, name: str) -> None:
    item = window.nav.item(PAGE_NAMES.index(name))
    rect = window.nav.visualItemRect(item)
    qtbot.mouseClick(window.nav.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_navigation_lists_the_pages_with_icons(window):
    names = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert names == ["Data", "Train", "Models", "Controllers", "Audit", "Administration"]
    assert all(not window.nav.item(i).icon().isNull() for i in range(window.nav.count()))
    assert all(window.nav.item(i).toolTip().startswith(("Step", "Every", "Accounts"))
               for i in range(window.nav.count()))


@pytest.mark.parametrize(("who", "page"), [
    ("erin", "Data"), ("avery", "Models"), ("omar", "Controllers"), ("aud", "Audit"),
    ("admin", "Administration"), ("dual", "Data")])
def test_each_role_lands_on_its_page(qtbot, workspace, people, runner, who, page):
    win = open_window(qtbot, workspace, runner, people[who])
    assert win.current_page_name() == page
    assert win.stack.currentWidget() is win.pages[page]
    assert win.header.title_label.text() == page


def test_pages_are_built_when_first_shown(qtbot, workspace, people, runner):
    win = open_window(qtbot, workspace, runner, people["aud"])
    assert list(win.pages) == ["Audit"], "only the landing page is built at start"
    assert isinstance(win.pages["Audit"], AuditView)
    _click_nav(qtbot, win, "Models")
    assert runner.wait_idle(5000)
    assert set(win.pages) == {"Audit", "Models"}
    assert isinstance(win.stack.currentWidget(), ModelsView)
    assert "approver signs it" in win.header.hint_label.text()


def test_models_page_lists_the_registry_when_first_shown(qtbot, workspace, runner):
    register(workspace.services, workspace.engineer)
    win = open_window(qtbot, workspace, runner, workspace.engineer)
    assert isinstance(win.models_view, ModelsView) and win.pages["Models"] is win.models_view
    assert win.models_view.version_refs() == [], "nothing is loaded before the page is shown"
    with qtbot.waitSignal(win.models_view.sig_refreshed, timeout=5000) as refreshed:
        _click_nav(qtbot, win, "Models")
    assert runner.wait_idle(5000)
    assert refreshed.args == [1]
    assert win.models_view.version_refs() == ["pump-7:v1"]
    assert win.models_view.details is not None


def test_header_and_status_bar_name_the_user_role_and_health(qtbot, workspace, runner):
    win = open_window(qtbot, workspace, runner, workspace.auditor)
    assert win.user_label.text() == "Signed in as aud (auditor)"
    assert win.header.user_label.text() == "aud  \u00b7  auditor"
    assert win.header.health_label.text() == "workspace: writable"
    assert win.header.health_label.property("status") == "ok"
    assert win.header.audit_label.text() == "audit trail: not verified yet"
    assert win.alarm_label.isHidden()


def test_header_shows_the_audit_chain_after_the_last_verification(qtbot, workspace, people,
                                                                  runner):
    sv = workspace.services
    sv.audit.verify(people["aud"])
    with pytest.raises(PermissionDenied):  # a refused try is not a verdict
        sv.audit.verify(people["erin"])
    win = open_window(qtbot, workspace, runner, people["erin"])
    assert win.header.audit_label.text() == "audit trail: intact"
    assert win.header.audit_label.property("status") == "ok"
    assert "aud" in win.header.audit_label.toolTip()

    auditor = open_window(qtbot, workspace, runner, people["aud"])
    conn = sqlite3.connect(sv.paths.db, isolation_level=None)
    try:  # an attacker with the file drops the append-only trigger and edits an event
        conn.execute("DROP TRIGGER audit_events_no_update")
        assert conn.execute("UPDATE audit_events SET body = replace(body, '\"admin\"', "
                            "'\"eve\"') WHERE seq = 2").rowcount == 1
    finally:
        conn.close()
    with qtbot.waitSignal(auditor.audit_view.sig_verified, timeout=10_000):
        auditor.audit_view.verify()
    assert runner.wait_idle(5000)
    # The dropped trigger is found before the edited event; the tooltip says which.
    assert auditor.header.audit_label.text().startswith("audit trail: BROKEN")
    assert auditor.header.audit_label.property("status") == "alarm"
    assert "audit_events_no_update" in auditor.header.audit_label.toolTip()


def test_workspace_alarm_shows_in_red_after_the_next_job(window, workspace, runner):
    assert window.alarm_label.isHidden()
    workspace.services.health.alarm = "ALARM: the workspace is read-only (test)"
    runner.submit(lambda: None, on_done=lambda _v: None, on_error=pytest.fail)
    assert runner.wait_idle(3000)
    assert not window.alarm_label.isHidden()
    assert window.alarm_label.text() == "ALARM: the workspace is read-only (test)"
    assert "#c62828" in window.alarm_label.styleSheet()
    assert window.header.health_label.text() == "workspace: READ-ONLY"
    assert window.header.health_label.property("status") == "alarm"
    assert window.header.health_label.toolTip() == "ALARM: the workspace is read-only (test)"


def test_the_window_comes_back_where_it_was_closed(qtbot, workspace, runner):
    first = open_window(qtbot, workspace, runner, workspace.auditor)
    assert first.size() == QSize(1100, 700), "the first start on a workstation"
    first.resize(1234, 777)
    first.move(QPoint(40, 30))
    with qtbot.waitSignal(first.sig_session_ended, timeout=5000):
        first.close()
    second = open_window(qtbot, workspace, runner, workspace.engineer)
    assert second.size() == QSize(1234, 777)


@pytest.mark.parametrize("size", [QSize(1100, 700), QSize(1920, 1080)])
def test_every_page_fits_the_screen_sizes_it_is_made_for(qtbot, workspace, people, runner,
                                                         size):
    win = open_window(qtbot, workspace, runner, people["dual"])
    win.resize(size)
    for name in PAGE_NAMES:
        win.show_page(name)
        assert runner.wait_idle(5000)
        need = win.minimumSizeHint()
        assert need.width() <= size.width() and need.height() <= size.height(), (name, need)
        assert win.size() == size, f"{name} forced the window to grow"
