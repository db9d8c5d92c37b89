"""The capture panel's "Train challenger..." (issue 12.4) against the reference controller on
127.0.0.1: greyed with the reason until the captured windows carry labels and for a role that
may not train; once pressed, a challenger of the version the controller ran is trained off the
GUI thread, compared beside it and sent to the Models page; Cancel registers nothing."""

from __future__ import annotations

import threading
import time

import pytest

from app.data.synthetic import STATES
from app.services.audit import AuditFilter
from app.ui.main_window import MainWindow
from tests.ui.controllers_kit import click, controller, open_view, trained

#: Windows captured: few, so the challenger trains fast (one run of contiguous windows).
WINDOWS = 4


@pytest.fixture(autouse=True)
def _no_host_serial_ports(workspace, monkeypatch):
    monkeypatch.setattr(workspace.services.data_in, "serial_ports", lambda: [])


@pytest.fixture
def captured(workspace, people, tmp_path):
    """pump-7:v1 running on a controller, and WINDOWS of its windows captured by the operator
    (as a drift alarm does by itself): (champion ref, captured dataset id)."""
    sv, omar = workspace.services, people["omar"]
    [ref] = trained(sv, people, tmp_path)
    edge = controller(sv, workspace.admin, tmp_path)
    try:
        assert sv.controllers.flash(omar, ref=ref, target=edge.target).ok
        deadline = time.monotonic() + 60  # only ends a test whose controller never classifies
        while sv.controllers.watch(omar, target=edge.target).live.inference_count < WINDOWS \
                and time.monotonic() < deadline:
            time.sleep(0.05)
        snap = sv.controllers.capture(omar, target=edge.target, windows=WINDOWS)
    finally:
        edge.stop()
    assert snap.provenance["model"] == ref
    return ref, snap.dataset_id


def _relabel_all(sv, omar, dataset):
    """The operator's verdict on the whole capture: the pump was healthy."""
    sv.feedback.alarm(omar, dataset=dataset, verdict="relabel", label="healthy",
                      note="checked on site: the pump is healthy")


def _show(qtbot, panel, dataset):
    with qtbot.waitSignal(panel.sig_loaded, timeout=10000):
        panel.show_dataset(dataset)


def test_greyed_until_the_captured_windows_carry_labels_and_for_an_operator(
        qtbot, workspace, people, runner, captured):
    sv, omar = workspace.services, people["omar"]
    _ref, dataset = captured
    panel = open_view(qtbot, sv, runner, people["erin"]).capture_panel
    button = panel.challenge_button
    assert not button.isEnabled() and "show a captured snapshot first" in button.toolTip()
    _show(qtbot, panel, dataset)
    assert not button.isEnabled()
    assert button.toolTip().endswith("Not now: confirm or relabel the captured windows first: "
                                     "a prediction is not a label")
    _relabel_all(sv, omar, dataset)
    _show(qtbot, panel, dataset)
    assert button.isEnabled(), button.toolTip()
    assert "Not now" not in button.toolTip()
    # The operator who gave the labels sees the same capture, and may not train.
    operator_panel = open_view(qtbot, sv, runner, omar).capture_panel
    _show(qtbot, operator_panel, dataset)
    assert operator_panel.table.rowCount() == len(sv.feedback.windows(omar, dataset=dataset))
    theirs = operator_panel.challenge_button
    assert not theirs.isEnabled()
    assert theirs.toolTip() == ("Training a challenger needs the engineer role; you are signed "
                                "in as omar (operator)")
    assert runner.wait_idle(5000)


def test_training_a_challenger_shows_the_comparison_and_leads_to_the_models_page(
        qtbot, workspace, people, runner, captured):
    sv, erin, aud = workspace.services, people["erin"], people["aud"]
    champion, dataset = captured
    _relabel_all(sv, people["omar"], dataset)
    win = MainWindow(sv, runner, erin)
    qtbot.addWidget(win)
    win.show()
    win.show_page("Controllers")
    assert runner.wait_idle(5000)
    panel = win.controllers_view.capture_panel
    _show(qtbot, panel, dataset)
    seen: list[float] = []
    panel.jobs.progress_bar.valueChanged.connect(seen.append)
    with qtbot.waitSignal(panel.challenger.sig_trained, timeout=120_000) as done:
        click(qtbot, panel.challenge_button)
        assert not panel.challenge_button.isEnabled(), "one challenger at a time"
        assert panel.jobs.cancel_button.isVisible()
    out = done.args[0]
    new = out.trained.version
    assert new.ref == "pump-7:v2" and out.comparison.champion == champion
    assert sorted(v.ref for v in sv.registry.versions(erin, line="pump-7")) == [champion, new.ref]
    assert out.dataset.provenance["new_data"] == dataset
    assert seen and max(seen) > 0, "the bar moved"
    assert panel.status_label.text() == (
        f"{new.ref} was trained as the challenger of {champion} and awaits approval on the "
        "Models page (propose it there first).")

    dialog = panel.challenger.dialog
    assert dialog is not None and dialog.isVisible()
    report = out.comparison.report
    rows = dialog.class_rows()
    assert [r[0] for r in rows] == sorted(report["models"]["champion"]["per_class"])
    assert {r[0] for r in rows} <= set(STATES)
    assert sum(int(r[1]) for r in rows) == report["windows"]
    for role in ("champion", "challenger"):
        matrix = dialog.confusion(role)
        assert matrix == report["models"][role]["confusion"]
        assert sum(map(sum, matrix)) == report["windows"]
    assert dialog.robustness.check_rows(), "the challenger's robustness table"

    # The trail: the combined snapshot and the new version, by the engineer; it verifies.
    trail = sv.audit.show(aud, AuditFilter(limit=100_000, newest_first=False))
    register = [e for e in trail if e.action == "model.register"]
    assert [(e.object, e.user) for e in register][-1] == (f"model:{new.ref}", "erin")
    combined = [e for e in trail if e.action == "dataset.data.import" and e.user == "erin"]
    assert combined and trail.index(combined[-1]) < trail.index(register[-1])
    assert sv.audit.verify(aud).ok

    click(qtbot, dialog.open_button)
    assert win.current_page_name() == "Models"
    qtbot.waitUntil(lambda: win.models_view.current_ref() == new.ref, timeout=10000)
    assert runner.wait_idle(5000)


def test_cancel_while_the_challenger_trains_registers_nothing(
        qtbot, workspace, people, runner, captured, monkeypatch):
    sv, erin = workspace.services, people["erin"]
    champion, dataset = captured
    _relabel_all(sv, people["omar"], dataset)
    before = len(sv.datasets.list(erin))
    # Hold the challenge inside the service (reading the champion's snapshot) until Cancel
    # was pressed, so the cancellation lands mid-job every time.
    inside, pressed = threading.Event(), threading.Event()
    real_load = sv.datasets.load

    def held_load(*args, **kwargs):
        inside.set()
        assert pressed.wait(10), "the test never pressed Cancel"
        return real_load(*args, **kwargs)

    monkeypatch.setattr(sv.datasets, "load", held_load)
    panel = open_view(qtbot, sv, runner, erin).capture_panel
    _show(qtbot, panel, dataset)
    try:
        click(qtbot, panel.challenge_button)
        qtbot.waitUntil(inside.is_set, timeout=10000)
        assert panel.jobs.cancel_button.isVisible()
        click(qtbot, panel.jobs.cancel_button)
        assert panel.jobs.progress_bar.format() == "cancelling..."
    finally:
        pressed.set()
    qtbot.waitUntil(lambda: not panel.jobs.running, timeout=20000)
    assert runner.wait_idle(5000)
    assert panel.status_label.text() == ("training the challenger cancelled: no version was "
                                         "registered")
    assert [v.ref for v in sv.registry.versions(erin, line="pump-7")] == [champion]
    assert len(sv.datasets.list(erin)) == before, "not even the combined snapshot"
    assert panel.challenge_button.isEnabled() and panel.challenger.dialog is None
