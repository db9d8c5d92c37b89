"""Data page: import with its validation report, acquisition with a live plot, Stop."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from app.devices.sim.simulator import ModbusSimulator
from app.devices.sim.tagmap import simulator_tagmap
from app.ui.data_format import format_duration
from app.ui.main_window import MainWindow
from app.ui.pages.data_view import DataView

CSV = "time,pressure [bar],flow\n0,1.0,2\n0.5,1.1,x\n1.0,1.2,4\n1.5,1.3,5\n"


def _open(qtbot, sv, runner, who) -> DataView:
    view = DataView(sv, runner, who)
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()  # the first showing lists the datasets
    assert runner.wait_idle(4000)
    return view


def _click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def _tagmap(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "line3.toml"
    path.write_text(simulator_tagmap(port=port, waveform_len=256, poll_rate_hz=20),
                    encoding="utf-8")
    return path


def test_import_a_csv_shows_the_dataset_and_the_rejected_line(qtbot, workspace, runner,
                                                              tmp_path):
    sv, erin = workspace.services, workspace.engineer
    path = tmp_path / "pump.csv"
    path.write_text(CSV, encoding="utf-8")
    view = _open(qtbot, sv, runner, erin)
    assert view.dataset_rows() == [] and "no datasets yet" in view.count_label.text()

    view.choose_files = lambda: [path]
    view.name_edit.setText("pump 3")
    view.label_edit.setText("normal")
    with qtbot.waitSignal(view.sig_imported, timeout=4000) as imported:
        _click(qtbot, view.import_button)
        assert view.job_running and view.cancel_button.isVisible()
    assert runner.wait_idle(4000)
    info = imported.args[0].dataset
    assert view.dataset_ids() == [info.dataset_id]
    assert view.dataset_rows() == [("pump 3", info.dataset_id[:12], "1",
                                    "pressure [bar], flow", format_duration(info.duration_s),
                                    "erin")]
    assert view.current_id() == info.dataset_id
    assert not view.job_running and not view.cancel_button.isVisible()

    report = view.report_text()
    assert "pump.csv: 4 rows read, 3 accepted, 1 rejected, 0 flagged" in report
    assert view.issues_table.rowCount() >= 1
    assert view.issues_table.item(0, 0).text() == "pump.csv"
    assert view.issues_table.item(0, 1).text() == "line 3"
    assert view.tabs.currentIndex() == 1, "the report is brought to the front"
    assert "imported pump 3" in view.message_label.text()
    # Selecting it loaded its recording into the viewer, with the import's label.
    assert view.viewer.recording is not None and view.viewer.recording.name == "pump"
    assert view.viewer.labels_list.item(0).text().startswith("normal: whole recording")


def test_a_refused_import_and_a_cancelled_choice(qtbot, workspace, runner, tmp_path):
    sv = workspace.services
    view = _open(qtbot, sv, runner, workspace.engineer)
    view.choose_files = lambda: []
    _click(qtbot, view.import_button)
    assert not runner.busy, "cancelling the file dialog starts nothing"
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"PK\x03\x04 this is no zip")
    view.choose_files = lambda: [bad]
    _click(qtbot, view.import_button)
    assert runner.wait_idle(4000)
    assert view.message_label.text().startswith("import failed: ")
    assert "internal error" not in view.message_label.text()
    assert "Traceback" not in view.message_label.text()
    assert view.dataset_rows() == [] and view.import_button.isEnabled()

    auditor = _open(qtbot, sv, runner, workspace.auditor)
    assert not auditor.import_button.isEnabled()
    assert not auditor.acquisition.start_button.isEnabled()
    assert "engineer role" in auditor.import_button.toolTip()


def test_acquisition_shows_live_data_and_lists_the_datasets(qtbot, workspace, runner,
                                                            tmp_path):
    sv, erin = workspace.services, workspace.engineer
    view = _open(qtbot, sv, runner, erin)
    panel = view.acquisition
    view.tabs.setCurrentWidget(panel)
    plot = panel.live_plot
    wave = np.sin(np.arange(48_000) / 7.0)
    with ModbusSimulator(waveform=wave, buffer_len=256) as sim:
        tagmap = _tagmap(tmp_path, sim.start_tcp())
        panel.choose_tagmap = lambda: tagmap
        _click(qtbot, panel.browse_button)
        assert panel.tagmap_edit.text() == str(tagmap)
        panel.duration_spin.setValue(0.5)
        panel.name_edit.setText("line 3")
        with qtbot.waitSignal(panel.sig_acquired, timeout=4500) as acquired:
            _click(qtbot, panel.start_button)
            assert panel.running and plot.running and panel.stop_button.isEnabled()
            assert not view.import_button.isEnabled(), "one worker: imports wait"
            # Samples reach the plot while the recording runs.
            qtbot.waitUntil(lambda: plot.point_count("wave:vibration") > 0, timeout=4000)
        assert runner.wait_idle(4000)
    outcome = acquired.args[0]
    assert outcome.end_reason == "duration" and len(outcome.datasets) >= 2
    streams = plot.feed.streams()
    assert len(streams["wave:vibration"]) >= 256 and len(streams["tags"]) >= 1
    assert plot.point_count("temperature") > 0, "tags are named from the tag map"
    assert not plot.running and not panel.running and panel.start_button.isEnabled()
    assert view.import_button.isEnabled()
    assert "ended: duration" in panel.status_label.text()
    names = sorted(row[0] for row in view.dataset_rows())
    assert len(names) == len(outcome.datasets) and all(n.startswith("line 3") for n in names)
    assert set(view.dataset_ids()) == {d.dataset_id for d in outcome.datasets}


def test_stop_ends_the_recording_and_keeps_the_samples(qtbot, workspace, runner, tmp_path):
    sv, erin = workspace.services, workspace.engineer
    view = _open(qtbot, sv, runner, erin)
    panel = view.acquisition
    view.tabs.setCurrentWidget(panel)
    with ModbusSimulator(waveform=np.sin(np.arange(48_000) / 7.0), buffer_len=256) as sim:
        panel.tagmap_edit.setText(str(_tagmap(tmp_path, sim.start_tcp())))
        panel.duration_spin.setValue(60.0)
        _click(qtbot, panel.start_button)
        qtbot.waitUntil(lambda: len(panel.live_plot.feed.streams().get("tags", ())) >= 2,
                        timeout=4000)
        _click(qtbot, panel.stop_button)
        assert not panel.stop_button.isEnabled()
        assert runner.wait_idle(4000)
    outcome = panel.outcome
    assert outcome is not None and outcome.end_reason == "stopped"
    tags = next(d for d in outcome.datasets if d.sample_rate != 12_000.0)
    assert tags.n_samples >= 2
    listed = sv.datasets.show(erin, dataset=tags.dataset_id)
    assert listed.n_samples == tags.n_samples
    assert tags.dataset_id in view.dataset_ids()
    assert "ended: stopped" in panel.status_label.text()


def test_a_device_that_does_not_answer_is_reported(qtbot, workspace, runner, tmp_path):
    view = _open(qtbot, workspace.services, runner, workspace.engineer)
    panel = view.acquisition
    with ModbusSimulator(buffer_len=256) as sim:
        port = sim.start_tcp()
    # The simulator is gone: nothing listens on the port any more.
    panel.tagmap_edit.setText(str(_tagmap(tmp_path, port)))
    panel.duration_spin.setValue(0.5)
    _click(qtbot, panel.start_button)
    assert runner.wait_idle(4500)
    assert panel.status_label.text().startswith("recording failed: ")
    assert not panel.running and view.dataset_rows() == []


@pytest.mark.parametrize(("seconds", "text"), [(0.5, "0.5 s"), (12.34, "12.3 s"),
                                                (245, "4 min 05 s"), (7380, "2 h 03 min")])
def test_durations_read_naturally(seconds, text):
    assert format_duration(seconds) == text


def test_main_window_shows_the_data_and_train_pages(qtbot, workspace, runner):
    from app.ui.pages.train_view import TrainView

    win = MainWindow(workspace.services, runner, workspace.engineer)
    qtbot.addWidget(win)
    win.show()
    assert runner.wait_idle(4000)
    win.show_page("Data")
    assert isinstance(win.stack.currentWidget(), DataView) and win.data_view.isVisible()
    assert runner.wait_idle(4000)
    assert "no datasets yet" in win.data_view.count_label.text()
    win.show_page("Train")
    assert isinstance(win.stack.currentWidget(), TrainView)
    assert runner.wait_idle(4000)
    assert not win.train_view.train_button.isEnabled()


def test_import_options_reach_the_service(qtbot, workspace, runner, tmp_path):
    path = tmp_path / "fan.npz"
    np.savez(path, acc=np.sin(np.arange(2400) / 5.0), other=np.zeros(2400))
    view = _open(qtbot, workspace.services, runner, workspace.engineer)
    view.choose_files = lambda: [path]
    view.keys_edit.setText("acc")
    view.rate_spin.setValue(12000.0)
    with qtbot.waitSignal(view.sig_imported, timeout=4000):
        view.import_files()
    assert runner.wait_idle(4000)
    (row,) = view.dataset_rows()
    assert row[0] == "fan" and row[3] == "acc" and row[4] == "0.2 s"
