"""Controllers page against the reference controller on 127.0.0.1: scan, flash, watch, roll back."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QTimer

from app.core.errors import NotFound
from app.data.synthetic import STATES
from app.services.audit import AuditFilter
from app.ui.controller_rows import ControllerRow, is_link_failure, row_lost
from app.ui.main_window import MainWindow
from app.ui.pages.controllers_view import ControllersView
from app.ui.widgets.watch_panel import WatchPanel, invalid_reason
from tests.ui.conftest import PASSWORDS
from tests.ui.controllers_kit import (
    HARDWARE_ID,
    add_and_scan,
    click,
    controller,
    open_view,
    trained,
)

LEVELS = ("ok", "warn", "alarm")


@pytest.fixture(autouse=True)
def _no_host_serial_ports(workspace, monkeypatch):
    # This computer's own serial ports would be scanned too (half a second each, and
    # whatever answers there): the tests see only the ports they list themselves.
    monkeypatch.setattr(workspace.services.data_in, "serial_ports", lambda: [])


@pytest.fixture
def edge(workspace, tmp_path):
    """The reference controller, stopped at the end of the test."""
    running = controller(workspace.services, workspace.admin, tmp_path)
    try:
        yield running
    finally:
        running.stop()


def test_scan_lists_serial_ports_and_shows_the_controllers_hardware_id(
        qtbot, workspace, people, runner, edge, monkeypatch):
    sv = workspace.services
    monkeypatch.setattr(sv.data_in, "serial_ports", lambda: [
        {"device": "/dev/plantml-no-such-port", "description": "USB adapter", "hwid": ""}])
    view = open_view(qtbot, sv, runner, people["omar"])
    assert view.endpoints() == ["rtu:/dev/plantml-no-such-port:115200"]
    assert not view.flash_button.isEnabled(), "nothing scanned, nothing selected"

    add_and_scan(qtbot, view, runner, edge.target)

    assert view.endpoints() == ["rtu:/dev/plantml-no-such-port:115200", edge.target]
    port_row, edge_row = view.table_rows()
    assert edge_row == (edge.target, HARDWARE_ID, "idle", "no model", "")
    assert port_row[0] == "rtu:/dev/plantml-no-such-port:115200"
    assert port_row[2] == "unreachable" and port_row[4], "a readable reason, not a blank"
    assert view.current_target() == edge.target, "the controller that answered is selected"
    assert view.scan_label.text() == "1 of 2 endpoints answered"
    assert view.watch_button.isEnabled()


def test_operator_flashes_through_the_view(qtbot, workspace, people, runner, edge, tmp_path):
    sv = workspace.services
    [ref] = trained(sv, people, tmp_path)
    view = open_view(qtbot, sv, runner, people["omar"])
    add_and_scan(qtbot, view, runner, edge.target)
    assert view.approved_refs == [ref]
    assert view.flash_button.isEnabled(), view.flash_button.toolTip()

    seen = []
    view.progress_bar.valueChanged.connect(seen.append)
    assert view.versions_for(edge.target) == [ref]
    view.choose_version = lambda: ref
    asked = []
    view.confirm_flash = lambda *args: asked.append(args) or PASSWORDS["omar"]
    with qtbot.waitSignal(view.sig_flashed, timeout=6000) as flashed:
        click(qtbot, view.flash_button)
        assert view.job_running and view.cancel_button.isVisible()
        assert not view.flash_button.isEnabled(), "one flash at a time"
    assert runner.wait_idle(3000)

    assert flashed.args[0].ok
    assert view.progress_bar.value() == view.progress_bar.maximum() == 1000
    assert len(seen) > 2 and seen == sorted(seen), "progress only moves forward"
    assert not view.job_running and not view.cancel_button.isVisible()
    assert view.row_of(edge.target) == (edge.target, HARDWARE_ID, "active", "pump-7:v1", "")
    assert f"runs {ref}" in view.message_label.text()
    [event] = sv.audit.show(people["aud"], AuditFilter(action="controller.deploy"))
    assert (event.user, event.result, event.new["target"]) == ("omar", "ok", edge.target)
    assert asked == [(edge.target, "no model", ref)], "what it replaces was said first"


def test_a_flash_offers_only_versions_for_the_controller_and_needs_the_password(
        qtbot, workspace, people, runner, edge, tmp_path):
    sv = workspace.services
    [ref] = trained(sv, people, tmp_path)
    view = open_view(qtbot, sv, runner, people["omar"])
    add_and_scan(qtbot, view, runner, edge.target)
    # A version released for another controller is not offered for this one.
    view.approved_for[ref] = ("EDGE-99",)
    assert view.versions_for(edge.target) == []
    assert view.choose_version() is None
    assert "no approved version was released for the hardware id" in view.message_label.text()
    view.approved_for[ref] = (HARDWARE_ID,)
    # Cancelled at the confirmation: nothing runs.
    view.choose_version = lambda: ref
    view.confirm_flash = lambda *args: None
    click(qtbot, view.flash_button)
    assert not view.job_running
    # A wrong password: refused and audited, the controller untouched.
    view.confirm_flash = lambda *args: "not-the-password"
    click(qtbot, view.flash_button)
    qtbot.waitUntil(lambda: not view.job_running, timeout=60_000)
    assert runner.wait_idle(60_000)
    assert "password was not confirmed" in view.message_label.text()
    assert view.row_of(edge.target)[3] == "no model"
    assert not sv.audit.show(people["aud"], AuditFilter(action="controller.deploy"))
    [refused] = sv.audit.show(people["aud"], AuditFilter(action="reauth"))
    assert (refused.user, refused.result) == ("omar", "refused")


def test_watch_shows_predictions_arriving_and_a_drift_level(
        qtbot, workspace, people, runner, edge, tmp_path):
    sv = workspace.services
    [ref] = trained(sv, people, tmp_path)
    assert sv.controllers.flash(people["omar"], ref=ref, target=edge.target).ok
    view = open_view(qtbot, sv, runner, people["erin"])  # engineers may watch
    add_and_scan(qtbot, view, runner, edge.target)
    view.watch_timer.setInterval(200)  # quicker than the 1 s of the real page

    click(qtbot, view.watch_button)
    assert view.watching == edge.target and view.watch_button.isChecked()
    qtbot.waitUntil(lambda: view.plot.point_count() >= 3 and view.drift_level() in LEVELS,
                    timeout=5000)

    assert view.plot.redraws >= 1
    text = view.prediction_label.text()
    assert text.startswith(f"{ref}: ") and any(state in text for state in STATES), text
    assert view.drift_label.text().startswith(f"drift: {view.drift_level()}")
    assert view.drift_label.styleSheet(), "the drift level is coloured"

    click(qtbot, view.watch_button)
    assert view.watching is None and not view.watch_timer.isActive()
    assert view.drift_label.text() == "" and not view.drift_label.styleSheet(), \
        "Stop watching clears the drift banner"
    assert runner.wait_idle(3000)
    shown = view.plot.point_count()
    assert shown >= 3, "the plot keeps what it showed"


def test_the_watch_keeps_polling_while_a_long_job_holds_the_writer_lane(
        qtbot, workspace, people, runner, edge, tmp_path):
    sv = workspace.services
    [ref] = trained(sv, people, tmp_path)
    assert sv.controllers.flash(people["omar"], ref=ref, target=edge.target).ok
    view = open_view(qtbot, sv, runner, people["omar"])
    add_and_scan(qtbot, view, runner, edge.target)
    view.watch_timer.setInterval(100)
    release, started = threading.Event(), threading.Event()

    def long_training():  # stands in for an acquisition or a training run
        started.set()
        return release.wait(60)

    runner.submit(long_training, on_done=lambda _v: None, on_error=pytest.fail)
    assert started.wait(5)
    try:
        polls = []
        view.sig_watch_updated.connect(polls.append)
        click(qtbot, view.watch_button)
        qtbot.waitUntil(lambda: len(polls) >= 3, timeout=10_000)
        assert not release.is_set(), "the polls arrived while the long job still ran"
    finally:
        release.set()
        view.stop_watch()
    assert runner.wait_idle(5000)


def _raw_bits(text: str) -> list[str]:
    """What a sentence for a plant engineer never holds: enum or command names (NO_PREVIOUS,
    no_previous, ROLLBACK), register numbers, Modbus exception numbers, a traceback."""
    found = [m.group(0) for m in re.finditer(r"\b[A-Z]{2,}(?:_[A-Z]+)*\b", text)]
    found += [m.group(0) for m in re.finditer(r"\b[a-z]+_[a-z_]+\b|\bregisters?\b|"
                                               r"exception 0\d|\b(?:IR|HR) ?\d|Traceback",
                                               text)]
    return found


def _force_rollback(qtbot, view, runner, reason: str) -> str:
    """Roll back past the greyed button (as a stale screen would) and return the message."""
    view.ask_reason = lambda: reason
    view.rollback()
    qtbot.waitUntil(lambda: not view.job_running, timeout=10_000)
    assert runner.wait_idle(5000)
    return view.message_label.text()


def test_rollback_is_greyed_until_there_is_a_previous_model(qtbot, workspace, people, runner,
                                                            edge, tmp_path):
    sv = workspace.services
    omar = people["omar"]
    [v1] = trained(sv, people, tmp_path)
    assert sv.controllers.flash(omar, ref=v1, target=edge.target).ok
    view = open_view(qtbot, sv, runner, omar)
    add_and_scan(qtbot, view, runner, edge.target)
    assert view.row_of(edge.target)[2:4] == ("active", "pump-7:v1")
    assert not view.rollback_button.isEnabled()
    assert view.rollback_button.toolTip().endswith("Not now: no previous model to roll back to")
    assert view.flash_button.isEnabled(), "only Rollback has nowhere to go"

    # Forced anyway: the controller refuses, and the refusal reads as a sentence.
    message = _force_rollback(qtbot, view, runner, "forced past the greyed button")
    assert message == ("rollback failed: the controller holds no valid previous model to roll "
                       "back to; it runs pump-7 v1")
    assert _raw_bits(message) == []
    assert len(_raw_bits("ROLLBACK holding registers 0-85: tcp:127.0.0.1:5020 unit 1 answered "
                         "exception 04 server device failure; controller says: no_previous: "
                         "no previous model to go back to")) == 4, "the check sees raw text"
    # The row, read again after the failure, says the same in its last-error column.
    qtbot.waitUntil(lambda: view.row_of(edge.target)[4] != "", timeout=5000)
    assert view.row_of(edge.target)[4] == ("the controller holds no valid previous model to "
                                           "roll back to")
    assert not view.rollback_button.isEnabled()
    # The audit trail keeps the device's exact words.
    [event] = sv.audit.show(people["aud"], AuditFilter(action="controller.rollback"))
    assert event.result == "failed" and "no previous model to go back to" in event.reason
    assert view.row_of(edge.target)[3] == "pump-7:v1"


def test_rollback_with_a_reason(qtbot, workspace, people, runner, edge, tmp_path):
    sv = workspace.services
    omar = people["omar"]
    v1, v2 = trained(sv, people, tmp_path, versions=2)
    for ref in (v1, v2):
        assert sv.controllers.flash(omar, ref=ref, target=edge.target).ok
    view = open_view(qtbot, sv, runner, omar)
    add_and_scan(qtbot, view, runner, edge.target)
    assert view.row_of(edge.target)[3] == "pump-7:v2"
    assert view.rollback_button.isEnabled(), view.rollback_button.toolTip()

    view.ask_reason = lambda: "   "
    click(qtbot, view.rollback_button)
    assert not view.job_running
    assert view.message_label.text() == "say why the controller rolls back"

    view.ask_reason = lambda: "v2 is noisy on line 3"
    with qtbot.waitSignal(view.sig_rolled_back, timeout=5000):
        click(qtbot, view.rollback_button)
    assert runner.wait_idle(3000)

    assert view.row_of(edge.target)[2:4] == ("active", "pump-7:v1")
    assert view.message_label.text() == f"{edge.target} rolled back; it runs pump-7:v1"
    [event] = sv.audit.show(people["aud"], AuditFilter(action="controller.rollback"))
    assert (event.user, event.result, event.reason) == ("omar", "ok", "v2 is noisy on line 3")
    # v2 stays in the other slot: Rollback may go back to it.
    assert view.rollback_button.isEnabled(), view.rollback_button.toolTip()

    # A previous slot damaged on the controller's disk: the command is accepted, then fails
    # there; what the page says is a sentence, not the status block.
    previous = json.loads((tmp_path / "edge" / "state.json").read_text("utf-8"))["previous"]
    (tmp_path / "edge" / f"slot_{previous.lower()}" / "model.onnx").write_bytes(b"damaged")
    message = _force_rollback(qtbot, view, runner, "back to v2")
    assert message == ("rollback failed: the controller holds no valid previous model to roll "
                       "back to; it runs pump-7 v1")
    assert _raw_bits(message) == []
    assert view.row_of(edge.target)[3] == "pump-7:v1"


def test_engineer_sees_flash_and_rollback_disabled(qtbot, workspace, people, runner, edge):
    view = open_view(qtbot, workspace.services, runner, people["erin"])
    add_and_scan(qtbot, view, runner, edge.target)
    assert view.current_target() == edge.target
    assert not view.flash_button.isEnabled()
    assert view.flash_button.toolTip() == (
        "Flashing a model needs the operator role; you are signed in as erin (engineer)")
    assert not view.rollback_button.isEnabled()
    assert "needs the operator role" in view.rollback_button.toolTip()
    assert view.scan_button.isEnabled() and view.watch_button.isEnabled()


def test_an_unreachable_endpoint_shows_a_readable_error_and_the_ui_stays_responsive(
        qtbot, workspace, people, runner, monkeypatch):
    sv = workspace.services
    gate = threading.Event()
    real_scan = sv.controllers.scan

    def held_scan(principal, *, endpoints):
        # The scan cannot finish until the GUI thread opens the gate from its event loop.
        assert gate.wait(5), "the GUI thread never got to open the gate"
        return real_scan(principal, endpoints=endpoints)

    monkeypatch.setattr(sv.controllers, "scan", held_scan)
    view = open_view(qtbot, sv, runner, people["omar"])
    view.tcp_edit.setText("not an endpoint")
    click(qtbot, view.add_button)
    assert "is not tcp:HOST:PORT" in view.message_label.text()
    view.tcp_edit.clear()
    qtbot.keyClicks(view.tcp_edit, "tcp:127.0.0.1:1")
    click(qtbot, view.add_button)

    click(qtbot, view.scan_button)
    try:
        assert view.scan_label.text() == "scanning 1 endpoint..."
        assert not view.scan_button.isEnabled()
        # While the worker waits, the page still takes input.
        qtbot.keyClicks(view.tcp_edit, "127.0.0.1:2")
        click(qtbot, view.add_button)
        assert view.endpoints() == ["tcp:127.0.0.1:1", "tcp:127.0.0.1:2"]
        with qtbot.waitSignal(view.sig_scanned, timeout=5000) as scanned:
            QTimer.singleShot(0, gate.set)
    finally:
        gate.set()  # never leave the worker waiting when an assertion fails
    assert runner.wait_idle(3000)

    assert scanned.args == [0]
    [row] = view.table_rows()
    assert row[:4] == ("tcp:127.0.0.1:1", "", "unreachable", "")
    assert "cannot connect" in row[4] and "Traceback" not in row[4]
    assert view.scan_label.text() == "0 of 1 endpoint answered"
    assert view.scan_button.isEnabled()
    assert not view.flash_button.isEnabled()
    assert "select a controller that answered the scan" in view.flash_button.toolTip()


def test_main_window_shows_the_controllers_page(qtbot, workspace, people, runner):
    win = MainWindow(workspace.services, runner, people["omar"])
    qtbot.addWidget(win)
    win.show()
    win.show_page("Controllers")
    assert runner.wait_idle(5000)
    page = win.pages["Controllers"]
    assert isinstance(page, ControllersView) and page.isVisible()
    assert win.stack.currentWidget() is page


def test_cancelling_a_flash_keeps_the_controllers_model(
        qtbot, workspace, people, runner, edge, tmp_path, monkeypatch):
    sv = workspace.services
    [ref] = trained(sv, people, tmp_path)
    gate = threading.Event()
    real_flash = sv.controllers.flash

    def held_flash(principal, **kw):
        # Starts only once the test has clicked Cancel, so the cancellation never races.
        assert gate.wait(5), "the test never opened the gate"
        return real_flash(principal, **kw)

    monkeypatch.setattr(sv.controllers, "flash", held_flash)
    view = open_view(qtbot, sv, runner, people["omar"])
    add_and_scan(qtbot, view, runner, edge.target)
    view.choose_version = lambda: ref
    view.confirm_flash = lambda *args: PASSWORDS["omar"]
    try:
        click(qtbot, view.flash_button)
        assert view.cancel_button.isVisible() and view.cancel_button.isEnabled()
        click(qtbot, view.cancel_button)
        assert view.progress_bar.format() == "cancelling..."
    finally:
        gate.set()
    qtbot.waitUntil(lambda: not view.job_running, timeout=5000)
    assert runner.wait_idle(3000)

    assert view.message_label.text() == f"flashing {ref} cancelled; {edge.target} keeps its model"
    assert not view.cancel_button.isVisible() and view.flash_button.isEnabled()
    assert view.row_of(edge.target)[3] == "no model"
    _, status = sv.controllers.status(people["omar"], target=edge.target)
    assert status.active is None


@dataclass(frozen=True)
class _FlaggedLive:
    """A Live as the controller reports it once it flags windows (the field being added)."""

    inference_count: int
    prediction: float
    invalid_reason: str


def test_an_invalid_window_shows_its_reason_instead_of_a_class(qtbot, runner):
    panel = WatchPanel(runner)
    qtbot.addWidget(panel)
    panel.target = "tcp:127.0.0.1:1"
    result = SimpleNamespace(model="pump-7:v1", label="ball_007", drift=None,
                             live=_FlaggedLive(5, 3.0, "dead sensor on channel acc"))
    panel._watched("tcp:127.0.0.1:1", result)
    assert panel.prediction_label.text() == \
        "pump-7:v1: invalid input: dead sensor on channel acc (inference 5)"
    assert "ball_007" not in panel.prediction_label.text()
    assert panel.plot.point_count() == 0, "an invalid window is not plotted as a class"
    assert invalid_reason(SimpleNamespace(live=SimpleNamespace())) == ""


def test_a_lost_controller_stops_saying_active_and_its_prediction_is_cleared(
        qtbot, workspace, people, runner, edge, tmp_path):
    sv = workspace.services
    [ref] = trained(sv, people, tmp_path)
    assert sv.controllers.flash(people["omar"], ref=ref, target=edge.target).ok
    view = open_view(qtbot, sv, runner, people["omar"])
    add_and_scan(qtbot, view, runner, edge.target)
    view.watch_timer.setInterval(200)
    click(qtbot, view.watch_button)
    qtbot.waitUntil(lambda: view.plot.point_count() >= 2, timeout=60_000)
    assert view.row_of(edge.target)[2] == "active"
    assert view.prediction_label.text().startswith(f"{ref}: ")
    before = view.plot.values()
    assert view.watch.drift_label.text().startswith("drift: ")

    with qtbot.waitSignal(view.sig_watch_lost, timeout=10_000) as lost:
        edge.stop()  # the controller is gone (killed, unplugged)
    assert lost.args == [edge.target]
    endpoint, _hw, state, model, error = view.row_of(edge.target)
    assert state == "no answer", "no longer 'active'"
    assert model == f"{ref} (last known)"
    assert error, "the reason is in the last-error column"
    text = view.prediction_label.text()
    assert "does not answer" in text and ref not in text, "the old prediction is gone"
    assert view.watching == edge.target, "it keeps trying: a controller may come back"
    assert view.plot.values()[:len(before)] == before, "the plot keeps what it showed"
    assert view.drift_level() == "", "no green or red verdict for data that stopped"
    assert "does not answer" in view.watch.drift_label.text()
    view.stop_watch()
    assert runner.wait_idle(5000)


def test_a_failed_poll_of_a_controller_without_a_model_is_not_a_lost_link():
    assert not is_link_failure(NotFound("the controller at x runs no model"))
    assert is_link_failure(OSError("connection refused"))
    row = ControllerRow("tcp:h:1", "EDGE-01", "active", "pump-7:v1", "", found=True)
    once = row_lost(row, "no answer within 1 s")
    assert once.cells() == ("tcp:h:1", "EDGE-01", "no answer", "pump-7:v1 (last known)",
                            "no answer within 1 s")
    assert row_lost(once, "again").model == "pump-7:v1 (last known)", "said once"


def test_the_newest_prediction_of_a_controller_is_explained(qtbot, workspace, people, runner,
                                                            edge, tmp_path):
    sv = workspace.services
    [ref] = trained(sv, people, tmp_path)
    view = open_view(qtbot, sv, runner, people["erin"])  # engineers may watch and read models
    add_and_scan(qtbot, view, runner, edge.target)
    assert view.explainer.button.isEnabled(), view.explainer.button.toolTip()
    # No model yet: one sentence, no window.
    click(qtbot, view.explainer.button)
    qtbot.waitUntil(lambda: "explaining failed" in view.message_label.text(), timeout=60_000)
    assert "no classified window to explain" in view.message_label.text()
    assert sv.controllers.flash(people["omar"], ref=ref, target=edge.target).ok
    qtbot.waitUntil(lambda: sv.controllers.watch(people["erin"], target=edge.target)
                    .live.inference_count >= 2, timeout=60_000)
    with qtbot.waitSignal(view.explainer.sig_explained, timeout=60_000) as explained:
        click(qtbot, view.explainer.button)
    result = explained.args[0]
    assert result.ref == ref and result.explanation is not None
    assert view.explainer.dialog is not None and view.explainer.dialog.isVisible()
    assert view.explainer.view.shown == result.explanation.top(12)
    view.explainer.dialog.close()
    # An approver reads models but does not watch controllers: greyed, and told why.
    approver = open_view(qtbot, sv, runner, people["avery"])
    assert not approver.explainer.button.isEnabled()
    assert "avery" in approver.explainer.button.toolTip()
