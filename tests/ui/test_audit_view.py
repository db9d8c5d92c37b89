"""Audit page: new events appear, verify finds tampering, export writes a signed folder."""

from __future__ import annotations

import json
import sqlite3
import threading

import pytest
from PySide6.QtCore import Qt

from app.services.audit import verify_export_folder
from app.ui.pages.audit_view import AuditView
from app.ui.styles import BAD_STYLE, GOOD_STYLE, REFUSED_STYLE
from app.ui.widgets.audit_table_model import COLUMNS


def _view(qtbot, workspace, runner, who: str = "auditor") -> AuditView:
    view = AuditView(workspace.services, runner, getattr(workspace, who))
    qtbot.addWidget(view)
    view.show()  # the first showing loads the table
    assert runner.wait_idle(5000)
    return view


def _rows(view: AuditView) -> list[dict[str, str]]:
    """What the table displays, as one dict per row keyed by column header."""
    model = view.table.model()
    return [{model.headerData(c, Qt.Orientation.Horizontal): model.data(model.index(r, c))
             for c in range(model.columnCount())} for r in range(model.rowCount())]


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_columns_are_the_audit_fields(qtbot, workspace, runner):
    view = _view(qtbot, workspace, runner)
    assert tuple(_rows(view)[0]) == COLUMNS == (
        "seq", "time", "user", "role", "action", "object", "result", "reason")


def test_refresh_shows_a_new_event(qtbot, workspace, runner):
    view = _view(qtbot, workspace, runner, "admin")
    assert not any(r["object"] == "user:newbie" for r in _rows(view))

    workspace.services.users.add(workspace.admin, username="newbie",
                                 password="newbie-pass-1234", roles=["operator"])
    with qtbot.waitSignal(view.sig_refreshed, timeout=5000):
        _click(qtbot, view.refresh_button)

    rows = _rows(view)  # newest first
    assert int(rows[0]["seq"]) == max(int(r["seq"]) for r in rows)
    # The account change is followed by the seal of the new roles and keys.
    assert (rows[0]["action"], rows[0]["user"]) == ("security.state", "admin")
    top = rows[1]
    assert (top["action"], top["object"], top["user"], top["role"], top["result"]) == \
        ("user.add", "user:newbie", "admin", "admin", "ok")
    assert "events shown" in view.count_label.text()


def test_filters_narrow_the_table(qtbot, workspace, runner):
    view = _view(qtbot, workspace, runner)
    view.action_edit.setText("user.")
    view.user_edit.setText("Admin")  # user names are case-insensitive
    with qtbot.waitSignal(view.sig_refreshed, timeout=5000):
        _click(qtbot, view.refresh_button)
    rows = _rows(view)
    assert {r["object"] for r in rows} == {"user:aud", "user:erin"}
    assert all(r["action"] == "user.add" and r["user"] == "admin" for r in rows)

    view.action_edit.clear()
    view.user_edit.clear()
    view.text_edit.setText("first run")
    with qtbot.waitSignal(view.sig_refreshed, timeout=5000):
        qtbot.keyClick(view.text_edit, Qt.Key.Key_Return)
    assert [r["object"] for r in _rows(view)] == ["user:admin"]


def test_intact_trail_verifies_green(qtbot, workspace, runner):
    view = _view(qtbot, workspace, runner)
    with qtbot.waitSignal(view.sig_verified, timeout=5000) as verified:
        _click(qtbot, view.verify_button)
    assert runner.wait_idle(5000)
    assert verified.args[0].ok
    assert view.result_label.text().startswith("audit trail intact")
    assert view.result_label.styleSheet() == GOOD_STYLE
    assert view.verify_button.isEnabled() and view.progress_bar.isHidden()
    top = _rows(view)[0]  # the verification itself was audited, and the table refreshed
    assert (top["action"], top["user"], top["result"]) == ("audit.verify", "aud", "ok")


def test_verify_reports_a_tampered_row_broken_at_its_sequence(qtbot, workspace, runner):
    view = _view(qtbot, workspace, runner)
    conn = sqlite3.connect(workspace.services.paths.db, isolation_level=None)
    try:
        # The triggers make the table append-only; an attacker with the file drops them.
        conn.execute("DROP TRIGGER audit_events_no_update")
        seq = conn.execute("SELECT min(seq) FROM audit_events WHERE body LIKE "
                           "'%\"object\":\"user:aud\"%' AND body LIKE '%\"auditor\"%'"
                           ).fetchone()[0]
        before = conn.execute("SELECT body FROM audit_events WHERE seq = ?", (seq,)).fetchone()[0]
        cur = conn.execute("UPDATE audit_events SET body = replace(body, '\"auditor\"', "
                           "'\"approver\"') WHERE seq = ?", (seq,))
        assert cur.rowcount == 1
        after = conn.execute("SELECT body FROM audit_events WHERE seq = ?", (seq,)).fetchone()[0]
        assert after != before
    finally:
        conn.close()

    with qtbot.waitSignal(view.sig_verified, timeout=5000) as verified:
        _click(qtbot, view.verify_button)
    assert runner.wait_idle(5000)
    report = verified.args[0]
    assert not report.ok and report.first_bad_seq == seq
    assert f"BROKEN at sequence {seq}:" in view.result_label.text()
    assert view.result_label.styleSheet() == BAD_STYLE
    top = _rows(view)[0]
    assert (top["action"], top["result"]) == ("audit.verify", "failed")


@pytest.mark.parametrize(("who", "verify", "export"), [
    ("auditor", True, True), ("admin", True, False), ("engineer", False, False)])
def test_verify_and_export_are_offered_to_the_roles_that_may_use_them(
        qtbot, workspace, runner, who, verify, export):
    view = _view(qtbot, workspace, runner, who)
    assert view.verify_button.isEnabled() is verify
    assert view.export_button.isEnabled() is export
    if not verify:
        assert view.verify_button.toolTip().startswith(
            "Verifying the audit trail needs the auditor or admin role; you are signed in as")
    if not export:
        assert "needs the auditor role" in view.export_button.toolTip()
    _click(qtbot, view.verify_button)  # a greyed-out button does nothing
    assert runner.wait_idle(5000)
    assert view.verify_button.isEnabled() is verify, "a finished job keeps the role's rule"


def test_a_refusal_is_not_worded_like_a_failed_verification(qtbot, workspace, runner):
    view = _view(qtbot, workspace, runner, "engineer")
    view.verify()  # what a stale button would have done
    assert runner.wait_idle(5000)
    text = view.message_label.text()
    assert text.startswith("verification not allowed: erin may not audit.verify"), text
    assert "failed" not in text and "BROKEN" not in text and "Traceback" not in text
    assert "auditor" in text
    assert view.message_label.styleSheet() == REFUSED_STYLE != BAD_STYLE
    assert view.result_label.text() == "", "no verdict on the trail was given"
    assert not view.verify_button.isEnabled()
    top = _rows(view)[0]  # the refusal is audited too
    assert (top["action"], top["user"], top["result"]) == ("audit.verify", "erin", "refused")


def test_export_with_progress_writes_the_folder(qtbot, workspace, runner, tmp_path, monkeypatch):
    view = _view(qtbot, workspace, runner)
    target = tmp_path / "export"
    monkeypatch.setattr(view, "choose_export_folder", lambda: target)
    values: list[int] = []
    view.progress_bar.valueChanged.connect(values.append)

    with qtbot.waitSignal(view.sig_exported, timeout=5000) as exported:
        _click(qtbot, view.export_button)
        assert not view.progress_bar.isHidden() and not view.cancel_button.isHidden()
        assert not view.export_button.isEnabled() and not view.verify_button.isEnabled()
    assert runner.wait_idle(5000)

    written = exported.args[0].folder
    assert written.parent == target and written.name.startswith("plantml-audit-")
    assert (written / "manifest.json").is_file()
    assert values and max(values) == 1000, "progress reached the bar"
    assert view.progress_bar.isHidden() and view.export_button.isEnabled()
    assert view.result_label.text().startswith(f"exported {exported.args[0].events} events")
    actions = [(r["action"], r["object"]) for r in _rows(view)]
    assert ("audit.export", str(written)) in actions


def test_export_cancelled_before_it_starts(qtbot, workspace, runner, tmp_path, monkeypatch):
    view = _view(qtbot, workspace, runner)
    target = tmp_path / "export"
    monkeypatch.setattr(view, "choose_export_folder", lambda: target)
    # Hold the single worker so the export is still queued when Cancel is pressed.
    release = threading.Event()
    runner.submit(lambda: release.wait(3), on_done=lambda _v: None, on_error=pytest.fail)
    _click(qtbot, view.export_button)
    assert view.job_running
    _click(qtbot, view.cancel_button)
    release.set()
    assert runner.wait_idle(5000)
    assert view.message_label.text() == "export cancelled"
    assert not view.job_running and view.export_button.isEnabled()
    assert not list(target.glob("*/manifest.json"))


def test_export_refusals_are_readable(qtbot, workspace, runner, tmp_path, monkeypatch):
    view = _view(qtbot, workspace, runner, "engineer")
    monkeypatch.setattr(view, "choose_export_folder", lambda: tmp_path / "x")
    view.export()
    assert runner.wait_idle(5000)
    assert view.message_label.text().startswith("export not allowed: erin may not audit.export")
    assert not list((tmp_path / "x").glob("*/manifest.json"))


def test_two_exports_to_one_stick_land_in_two_folders(qtbot, workspace, runner, tmp_path,
                                                      monkeypatch):
    stick = tmp_path / "stick"
    view = _view(qtbot, workspace, runner)
    monkeypatch.setattr(view, "choose_export_folder", lambda: stick)
    folders = []
    for _ in range(2):
        with qtbot.waitSignal(view.sig_exported, timeout=60_000) as exported:
            _click(qtbot, view.export_button)
        assert runner.wait_idle(60_000)
        folders.append(exported.args[0].folder)
    assert folders[0] != folders[1] and {f.parent for f in folders} == {stick}
    first, second = (json.loads((f / "manifest.json").read_text(encoding="utf-8"))
                     for f in folders)
    assert first != second, "the second export did not overwrite the first"
    for f in folders:
        assert verify_export_folder(f).ok


def test_no_folder_chosen_does_nothing(qtbot, workspace, runner, monkeypatch):
    view = _view(qtbot, workspace, runner)
    monkeypatch.setattr(view, "choose_export_folder", lambda: None)
    _click(qtbot, view.export_button)
    assert not runner.busy and not view.job_running
