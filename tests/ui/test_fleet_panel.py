"""The Controllers page's Fleet tab against two reference controllers on 127.0.0.1: the
inventory is added and listed with current models, a roll-out runs on the task runner with
progress and ends in the roll-out table, a halted one resumes; buttons greyed by role."""

from __future__ import annotations

import time

from app.services.audit import AuditFilter
from app.services.controller_runtime import start_controller
from app.ui.pages.controllers_view import ControllersView
from tests.ui.controllers_kit import HARDWARE_ID, click, trained

#: A long wait on an event (a roll-out ending); never reached unless something is broken.
PATIENCE_MS = 120_000


def _edges(sv, admin, tmp_path, n=2):
    trust = tmp_path / "trust.json"
    sv.keys.export(admin, path=trust)
    return [start_controller(state_dir=tmp_path / f"edge{i}", hardware_id=HARDWARE_ID,
                             trust=trust, tcp="127.0.0.1:0", commit_deadline_s=30)
            for i in range(n)]


def _panel(qtbot, sv, runner, who):
    view = ControllersView(sv, runner, who)
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    assert runner.wait_idle(5000)
    with qtbot.waitSignal(view.fleet.sig_loaded, timeout=PATIENCE_MS):
        view.show_fleet()
    return view, view.fleet


def test_inventory_and_a_rollout_from_the_fleet_tab(qtbot, workspace, people, runner,
                                                    tmp_path):
    sv = workspace.services
    [ref] = trained(sv, people, tmp_path)
    edges = _edges(sv, workspace.admin, tmp_path)
    try:
        view, panel = _panel(qtbot, sv, runner, people["omar"])
        assert panel.inventory_rows() == [] and not panel.rollout_button.isEnabled()
        for i, edge in enumerate(edges):
            panel.ask_controller = lambda i=i, edge=edge: {
                "name": f"fan-{i}", "endpoint": edge.target, "hardware_id": HARDWARE_ID,
                "line": "pump-7", "location": "roof", "group": "fans"}
            with qtbot.waitSignal(panel.sig_loaded, timeout=PATIENCE_MS):
                click(qtbot, panel.add_button)
        assert [r[:4] for r in panel.inventory_rows()] == [
            ("fan-0", "fans", edges[0].target, HARDWARE_ID),
            ("fan-1", "fans", edges[1].target, HARDWARE_ID)]
        assert [r[6] for r in panel.inventory_rows()] == ["-", "-"]
        assert panel.rollout_button.isEnabled()
        qtbot.waitUntil(lambda: view.approved_refs == [ref], timeout=PATIENCE_MS)
        progress = []
        panel.jobs.progress_bar.valueChanged.connect(progress.append)
        panel.ask_rollout = lambda: {"ref": ref, "group": "fans", "canary": "fan-1",
                                     "batch_size": 1, "parallel": 2, "observe_s": 0.0}
        with qtbot.waitSignal(panel.sig_rollout_ended, timeout=PATIENCE_MS) as ended:
            click(qtbot, panel.rollout_button)
            assert not panel.add_button.isEnabled(), "greyed while the roll-out runs"
        ro = ended.args[0]
        assert ro.state == "done" and [s.controller for s in ro.steps] == ["fan-1", "fan-0"]
        assert progress and max(progress) > 0, "the bar moved"
        qtbot.waitUntil(lambda: bool(panel.rollout_rows()) and panel.rollout_rows()[0][3] == "done",
                        timeout=PATIENCE_MS)
        assert panel.rollout_rows()[0][:5] == (str(ro.id), ref, "fans", "done", "2 of 2")
        assert all(r[6].startswith("pump-7 v1") for r in panel.inventory_rows())
        assert "done" in panel.jobs.message_label.text()
        assert not panel.resume_button.isEnabled(), "a done roll-out has nothing to resume"
        events = sv.audit.show(people["aud"], AuditFilter(action="fleet."))
        assert {"fleet.add", "fleet.rollout.start", "fleet.rollout.step",
                "fleet.rollout.done"} <= {e.action for e in events}
    finally:
        for edge in edges:
            edge.stop()


def test_a_halted_rollout_is_shown_and_resumed(qtbot, workspace, people, runner, tmp_path):
    sv = workspace.services
    [ref] = trained(sv, people, tmp_path)
    edges = _edges(sv, workspace.admin, tmp_path)
    omar = people["omar"]
    try:
        for i, edge in enumerate(edges):
            sv.fleet.add(omar, name=f"fan-{i}", endpoint=edge.target, hardware_id=HARDWARE_ID,
                         group="fans")
        edges[1].server.faults.down_until = time.monotonic() + 3600
        halted = sv.fleet.start(omar, ref=ref, group="fans", batch_size=1, observe_s=0)
        assert halted.state == "halted"
        edges[1].server.faults.clear()
        view, panel = _panel(qtbot, sv, runner, omar)
        assert panel.rollout_rows()[0][3] == "halted"
        assert "fan-1" in panel.rollout_rows()[0][6] and "fan-1" in panel.detail.text()
        assert panel.resume_button.isEnabled()
        with qtbot.waitSignal(panel.sig_rollout_ended, timeout=PATIENCE_MS) as ended:
            click(qtbot, panel.resume_button)
        assert ended.args[0].state == "done"
        qtbot.waitUntil(lambda: panel.rollout_rows()[0][3] == "done", timeout=PATIENCE_MS)
    finally:
        for edge in edges:
            edge.stop()


def test_fleet_buttons_are_greyed_by_role(qtbot, workspace, people, runner):
    sv = workspace.services
    sv.fleet.add(people["omar"], name="fan-0", endpoint="tcp:10.0.0.1:502",
                 hardware_id=HARDWARE_ID, group="fans")
    _view, panel = _panel(qtbot, sv, runner, people["aud"])
    assert panel.inventory_rows()[0][0] == "fan-0", "auditors read the inventory"
    for button in (panel.add_button, panel.remove_button, panel.rollout_button,
                   panel.resume_button):
        assert not button.isEnabled()
        assert "operator role" in button.toolTip()
    assert panel.refresh_button.isEnabled()
