"""The Controllers page's capture panel (issue 12.1, 12.2) against the reference controller on
127.0.0.1: an operator captures windows, sees what the model proposed, relabels one with a
note; an auditor's buttons are greyed with the role they need."""

from __future__ import annotations

import time

import pytest

from tests.ui.controllers_kit import add_and_scan, click, controller, open_view, trained


@pytest.fixture(autouse=True)
def _no_host_serial_ports(workspace, monkeypatch):
    monkeypatch.setattr(workspace.services.data_in, "serial_ports", lambda: [])


@pytest.fixture
def edge(workspace, tmp_path):
    running = controller(workspace.services, workspace.admin, tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_operator_captures_and_relabels_a_window(qtbot, workspace, people, runner, edge,
                                                 tmp_path):
    sv, omar = workspace.services, people["omar"]
    [ref] = trained(sv, people, tmp_path)
    assert sv.controllers.flash(omar, ref=ref, target=edge.target).ok
    deadline = time.monotonic() + 60  # only ends a test whose controller never classifies
    while sv.controllers.watch(omar, target=edge.target).live.inference_count < 3 and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    view = open_view(qtbot, sv, runner, omar)
    add_and_scan(qtbot, view, runner, edge.target)
    panel = view.capture_panel
    assert panel.capture_button.isEnabled(), panel.capture_button.toolTip()
    assert not panel.relabel_button.isEnabled(), "no window picked yet"
    panel.windows_box.setValue(3)
    with qtbot.waitSignal(panel.sig_loaded, timeout=20000) as loaded:
        click(qtbot, panel.capture_button)
    dataset = loaded.args[0]
    assert 1 <= panel.table.rowCount() <= 3
    assert panel.table.item(0, 2).text(), "what the model proposed"
    assert panel.table.item(0, 3).text() == "", "no feedback yet"
    panel.table.selectRow(0)
    assert panel.relabel_button.isEnabled()
    answers = iter(["healthy", "checked on site"])
    panel.ask = lambda *_a: next(answers)
    with qtbot.waitSignal(panel.sig_loaded, timeout=20000):
        click(qtbot, panel.relabel_button)
    assert panel.table.item(0, 3).text() == "relabel healthy (omar)"
    labels = sv.datasets.show(people["erin"], dataset=dataset).labels
    assert [(lb.label, lb.created_by) for lb in labels] == [("healthy", "omar")]
    assert runner.wait_idle(5000)


def test_an_auditor_may_not_capture_or_judge(qtbot, workspace, people, runner):
    view = open_view(qtbot, workspace.services, runner, people["aud"])
    panel = view.capture_panel
    assert not panel.capture_button.isEnabled()
    assert "operator" in panel.capture_button.toolTip()
    assert "operator" in panel.confirm_button.toolTip()
