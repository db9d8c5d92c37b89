"""The tag-map editor of the Data page: load an example, edit, save what parses again, refuse
what does not (naming the row and setting), and a test read against a real Modbus server."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.core.clock import FakeClock
from app.data.tagmap.load import load_tagmap
from app.devices.sim.simulator import ModbusSimulator
from app.devices.sim.tagmap import simulator_tagmap
from app.ui.widgets.acquisition_panel import AcquisitionPanel
from app.ui.widgets.tagmap_editor import TagMapDialog

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "tagmaps"


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _panel(qtbot, workspace, runner, who=None) -> AcquisitionPanel:
    panel = AcquisitionPanel(workspace.services, runner, who or workspace.engineer)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def _editor(qtbot, workspace, runner, path: Path, who=None) -> tuple[AcquisitionPanel,
                                                                     TagMapDialog]:
    panel = _panel(qtbot, workspace, runner, who)
    panel.tagmap_edit.setText(str(path))
    _click(qtbot, panel.edit_button)
    dialog = panel.tagmap_dialog
    assert dialog is not None and dialog.isVisible()
    return panel, dialog


def _example(tmp_path: Path, name: str = "pump-skid-tcp.toml") -> Path:
    path = tmp_path / name
    shutil.copyfile(EXAMPLES / name, path)
    return path


def _frozen_sim() -> ModbusSimulator:
    # A frozen clock: the device's values are those of t = 0 (docs/tagmap.md's simulator).
    return ModbusSimulator(waveform=np.linspace(0.5, 1.5, 4096), buffer_len=256,
                           clock=FakeClock(frozen=True).monotonic)


def test_an_example_map_is_edited_saved_and_parses_again(qtbot, workspace, runner, tmp_path):
    path = _example(tmp_path)
    before = load_tagmap(path)
    panel, dialog = _editor(qtbot, workspace, runner, path)
    assert dialog.windowTitle() == "Tag map: pump-skid-tcp.toml"
    assert dialog.device.field("connection", "host").text() == "127.0.0.1"
    assert dialog.device.field("top", "poll_rate_hz").text() == "10.0"
    assert [dialog.tags.text(r, "name") for r in range(3)] == ["temperature", "flow", "running"]
    assert dialog.tags.text(1, "word_order") == "little"
    assert dialog.waveforms.rowCount() == 1 and dialog.waveforms.text(0, "length") == "1024"
    assert dialog.problem_label.text() == "valid: 3 tags, 1 waveform"

    dialog.tags.set_text(0, "scale", "0.5")
    dialog.tags.set_text(0, "unit", "K")
    assert dialog.windowTitle().endswith(" *")
    with qtbot.waitSignal(dialog.sig_saved, timeout=2000):
        _click(qtbot, dialog.save_button)
    assert dialog.message_label.text() == f"saved {path}"
    assert panel.tagmap_edit.text() == str(path)

    after = load_tagmap(path)
    assert after.tag("temperature").scale == 0.5 and after.tag("temperature").unit == "K"
    assert after.tags[1:] == before.tags[1:] and after.waveforms == before.waveforms
    assert (after.name, after.connection, after.poll_rate_hz, after.max_gap) == \
        (before.name, before.connection, before.poll_rate_hz, before.max_gap)
    assert path.read_text(encoding="utf-8").startswith("# Example tag map: a pump skid")
    assert not list(tmp_path.glob(".plantml-tmp-*")), "written through a temporary file"


def test_an_invalid_value_names_its_row_and_setting_and_is_not_saved(qtbot, workspace, runner,
                                                                     tmp_path):
    path = _example(tmp_path)
    original = path.read_bytes()
    _, dialog = _editor(qtbot, workspace, runner, path)

    dialog.tags.set_text(1, "address", "70000")
    assert dialog.problem_label.text() == \
        "tag 'flow': address 70000 (+2 registers) is outside 0 to 65535"
    assert dialog.tags.marked() == [(1, "address")]
    assert "is outside 0 to 65535" in dialog.tags.item(1, 2).toolTip()
    _click(qtbot, dialog.save_button)
    assert dialog.message_label.text() == ("not saved: tag 'flow': address 70000 (+2 "
                                           "registers) is outside 0 to 65535")
    assert path.read_bytes() == original

    # Text where a number belongs, and a device field out of range: both named.
    dialog.tags.set_text(1, "address", "four")
    dialog.device.set_text("connection", "port", "0")
    assert dialog.problem_label.text().startswith(
        "[connection]: port 0 is out of range (1 to 65535) (and 1 more problem")
    assert dialog.device.marked() == [("connection", "port")]
    assert dialog.tags.marked() == [(1, "address")]
    assert "tag 'flow': 'address' must be int, not 'four'" in dialog.tags.item(1, 2).toolTip()
    assert not dialog.save() and path.read_bytes() == original

    dialog.tags.set_text(1, "address", "4")
    dialog.device.set_text("connection", "port", "5020")
    assert dialog.problems == () and dialog.tags.marked() == []
    assert dialog.save() and load_tagmap(path).connection.port == 5020


def test_a_new_tag_map_is_written_from_nothing(qtbot, workspace, runner, tmp_path):
    panel = _panel(qtbot, workspace, runner)
    _click(qtbot, panel.new_button)
    dialog = panel.tagmap_dialog
    assert dialog is not None and dialog.windowTitle() == "Tag map: new tag map"
    assert "nothing to read" in dialog.problem_label.text()
    _click(qtbot, dialog.add_tag_button)
    assert dialog.problem_label.text().startswith("tag #1: 'name' is missing (and 1 more")
    assert dialog.tags.marked() == [(0, "name"), (0, "address")]
    dialog.tags.set_text(0, "name", "level")
    dialog.tags.set_text(0, "address", "7")
    dialog.tags.set_text(0, "type", "float32")
    dialog.tags.set_text(0, "unit", "m")
    dialog.device.transport_combo.setCurrentText("Modbus RTU (serial)")
    assert "give either host (Modbus TCP) or serial_port (RTU)" in dialog.problem_label.text()
    assert dialog.device.marked() == [("connection", "serial_port")]
    dialog.device.set_text("connection", "serial_port", "COM3")
    dialog.device.set_text("connection", "parity", "N")
    assert dialog.problem_label.text() == "valid: 1 tag"
    target = tmp_path / "tank"
    dialog.choose_save_path = lambda: target.with_suffix(".toml")
    assert dialog.save()
    tm = load_tagmap(tmp_path / "tank.toml")
    assert tm.connection.serial_port == "COM3" and tm.connection.parity == "N"
    assert tm.connection.host is None, "the TCP fields are not written for RTU"
    assert tm.tag("level").type == "float32" and tm.tag("level").address == 7
    assert panel.tagmap_edit.text() == str(tmp_path / "tank.toml")


def test_a_test_read_shows_each_tag_scaled_in_its_unit(qtbot, workspace, runner, tmp_path):
    path = tmp_path / "line3.toml"
    with _frozen_sim() as sim:
        port = sim.start_tcp()
        path.write_text(simulator_tagmap(port=port, waveform_len=256), encoding="utf-8")
        _, dialog = _editor(qtbot, workspace, runner, path)
        with qtbot.waitSignal(dialog.sig_read, timeout=5000):
            _click(qtbot, dialog.test_button)
            assert dialog.reading and not dialog.editor.isEnabled()
        assert runner.wait_idle(3000)
        assert dict(zip([dialog.tags.text(r, "name") for r in range(9)],
                        dialog.tags.readings(), strict=True)) == {
            "temperature": "60 degC", "speed": "1797 rpm", "pressure": "4.2 bar",
            "flow": "13 m3/h", "cycles": "0", "energy": "1000 kWh", "vibration_rms": "0.25 g",
            "running": "1", "door_closed": "1"}
        assert dialog.waveforms.readings() == ["0.5 g"]
        assert dialog.message_label.text().startswith(
            f"read 10 from 127.0.0.1:{port} unit 1 in ")
        assert dialog.editor.isEnabled() and dialog.test_button.isEnabled()

        # A register the device refuses is the error of its own row; the rest still read.
        sim.faults.exceptions[("holding", 12)] = 2
        with qtbot.waitSignal(dialog.sig_read, timeout=5000):
            _click(qtbot, dialog.test_button)
        assert runner.wait_idle(3000)
    readings = dialog.tags.readings()
    assert readings[6] == ("holding register 12: the device answered 02 illegal data address: "
                           "the device has no such register or range, or it cannot be "
                           "written there")
    assert readings[0] == "60 degC"
    assert dialog.message_label.text() == (f"1 of 10 could not be read from 127.0.0.1:{port} "
                                           "unit 1; the Test read column says why")


def test_a_test_read_of_a_closed_port_says_so_and_the_editor_stays_usable(
        qtbot, workspace, runner, tmp_path):
    with _frozen_sim() as sim:
        port = sim.start_tcp()
    # The simulator is gone: nothing listens on the port any more.
    path = tmp_path / "gone.toml"
    path.write_text(simulator_tagmap(port=port), encoding="utf-8")
    _, dialog = _editor(qtbot, workspace, runner, path)
    with qtbot.waitSignal(dialog.sig_read, timeout=5000):
        _click(qtbot, dialog.test_button)
    assert runner.wait_idle(3000)
    assert dialog.message_label.text() == (
        f"test read of 127.0.0.1:{port} unit 1: cannot connect to 127.0.0.1:{port}: nothing "
        "accepts Modbus TCP connections there (is the device on, and are the address and port "
        "right?)")
    assert set(dialog.tags.readings()) == {"not read"}
    assert "Traceback" not in dialog.message_label.text()
    # Still usable: edit, read again, save.
    assert dialog.editor.isEnabled() and dialog.test_button.isEnabled()
    dialog.tags.set_text(0, "unit", "K")
    assert dialog.tags.readings()[0] == "", "an edit clears the old reading"
    assert dialog.save() and load_tagmap(path).tag("temperature").unit == "K"


def test_a_test_read_waiting_on_a_silent_device_is_cancelled(qtbot, workspace, runner,
                                                            tmp_path):
    with _frozen_sim() as sim:
        port = sim.start_tcp()
        sim.faults.hang = True  # never answers
        path = tmp_path / "silent.toml"
        path.write_text(simulator_tagmap(port=port, timeout_s=1.0), encoding="utf-8")
        _, dialog = _editor(qtbot, workspace, runner, path)
        _click(qtbot, dialog.test_button)
        qtbot.waitUntil(lambda: sim.requests >= 1, timeout=5000)
        assert dialog.jobs.cancel_button.isVisible()
        _click(qtbot, dialog.jobs.cancel_button)
        qtbot.waitUntil(lambda: not dialog.reading, timeout=5000)
        assert runner.wait_idle(3000)
    assert dialog.message_label.text() == "test read cancelled"
    assert dialog.editor.isEnabled() and dialog.test_button.isEnabled()


def test_without_the_engineer_role_the_test_read_is_greyed(qtbot, workspace, runner, tmp_path):
    _, dialog = _editor(qtbot, workspace, runner, _example(tmp_path), workspace.auditor)
    assert not dialog.test_button.isEnabled()
    assert dialog.test_button.toolTip().startswith("A test read needs the engineer role")
    assert dialog.save_button.isEnabled(), "a file of one's own may be edited by anyone"


def test_an_unreadable_file_is_said_on_the_panel(qtbot, workspace, runner, tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\n\n[connection]\nhost = \n', encoding="utf-8")
    panel = _panel(qtbot, workspace, runner)
    panel.tagmap_edit.setText(str(path))
    _click(qtbot, panel.edit_button)
    assert panel.tagmap_dialog is None
    assert panel.status_label.text().startswith(
        f"cannot edit the tag map: {path}: not valid TOML (")
    assert "at line 4" in panel.status_label.text()


@pytest.mark.parametrize("name", ["fan-rtu.toml"])
def test_an_rtu_example_shows_its_serial_fields(qtbot, workspace, runner, tmp_path, name):
    _, dialog = _editor(qtbot, workspace, runner, _example(tmp_path, name))
    assert dialog.device.rtu
    assert dialog.device.field("connection", "serial_port").text() == "COM3"
    assert dialog.device.field("connection", "parity").currentText() == "E"
    assert not dialog.device.field("connection", "host").isVisible()
    assert dialog.problems == ()
    assert dialog.save()
    assert load_tagmap(tmp_path / name).connection == load_tagmap(EXAMPLES / name).connection
