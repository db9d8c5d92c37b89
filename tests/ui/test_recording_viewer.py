"""Recording viewer: stacked channels, labelling a dragged region, ten million samples."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.core.records import ChannelInfo, DatasetInfo, RecordingInfo
from app.core.roles import Action
from app.services.datasets import RecordingInput
from app.ui.widgets.recording_viewer import RecordingViewer


def _dataset(sv, who, n=4000, rate=1000.0):
    t = np.arange(n) / rate
    data = np.vstack([np.sin(2 * np.pi * 5 * t), 20.0 + np.cos(2 * np.pi * 2 * t)])
    return sv.datasets.create_from_arrays(
        who, action=Action.DATA_IMPORT, name="pump 3",
        channels=[ChannelInfo("pressure", "bar"), ChannelInfo("flow", "m3/h")],
        sample_rate=rate, provenance={"source": "test"},
        recordings=[RecordingInput("run 1", data), RecordingInput("run 2", data[:, :2000])])


def _viewer(qtbot, sv, runner, who) -> RecordingViewer:
    viewer = RecordingViewer(sv, runner, who)
    qtbot.addWidget(viewer)
    viewer.resize(1000, 600)
    viewer.show()
    qtbot.waitExposed(viewer)
    return viewer


def _drag(qtbot, viewer: RecordingViewer, t_from: float, t_to: float) -> None:
    """Drag the region's body with the mouse by (t_to - t_from) seconds."""
    view = viewer.plot.getViewBox()
    widget = viewer.plot_widget

    def at(t: float):
        scene = view.mapViewToScene(QPointF(t, 0.0))
        return widget.mapFromScene(scene)

    start, end = at(t_from), at(t_to)
    vp = widget.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=start)
    for k in range(1, 6):
        qtbot.mouseMove(vp, pos=start + (end - start) * (k / 5))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=end)


def test_shows_a_recording_and_labels_a_dragged_region(qtbot, workspace, runner):
    sv, erin = workspace.services, workspace.engineer
    info = _dataset(sv, erin)
    viewer = _viewer(qtbot, sv, runner, erin)
    with qtbot.waitSignal(viewer.sig_loaded, timeout=4000):
        viewer.show_dataset(info)
    assert runner.wait_idle(4000)
    assert viewer.recording.name == "run 1" and viewer.recording_combo.count() == 2
    assert len(viewer.curves) == 2 and viewer.duration_s == pytest.approx(4.0)
    # Real units, lane by lane: the flow lane spans its own 19..21 m3/h, not a 0..1 lane.
    assert viewer.axis_labels() == ["pressure (bar)", "flow (m3/h)"]
    (p_lo, p_hi), (f_lo, f_hi) = viewer.amplitude_ranges()
    assert p_lo == pytest.approx(-1.1, abs=0.01) and p_hi == pytest.approx(1.1, abs=0.01)
    assert f_lo == pytest.approx(18.9, abs=0.01) and f_hi == pytest.approx(21.1, abs=0.01)
    assert viewer.fit_button.isVisible() and viewer.fit_button.text() == "Fit"
    assert viewer.displayed_point_count() > 0
    assert viewer.label_region_button.isEnabled()

    viewer.set_region(1.0, 2.0)
    _drag(qtbot, viewer, 1.5, 2.0)  # grab the middle of the region, move it by 0.5 s
    t_start, t_end = viewer.region_range()
    assert t_start == pytest.approx(1.5, abs=0.05) and t_end == pytest.approx(2.5, abs=0.05)
    assert t_end - t_start == pytest.approx(1.0, abs=1e-9)
    assert [r.getRegion() for r in viewer.plot_widget.regions] == [(t_start, t_end)] * 2, \
        "every lane's region moves with the dragged one"
    assert viewer.region_label.text().startswith(f"region {t_start:.6g} s to {t_end:.6g} s")

    asked = []
    viewer.ask_label = lambda title: asked.append(title) or "cavitation"
    with qtbot.waitSignal(viewer.sig_labelled, timeout=4000) as stored:
        qtbot.mouseClick(viewer.label_region_button, Qt.MouseButton.LeftButton)
    assert runner.wait_idle(4000)
    assert asked and asked[0] == f"Label {t_start:.6g} s to {t_end:.6g} s"
    assert (stored.args[0].t_start, stored.args[0].t_end) == (t_start, t_end)
    shown = sv.datasets.show(erin, dataset=info.dataset_id)
    labels = [(lb.recording, lb.label, lb.t_start, lb.t_end) for lb in shown.labels]
    assert labels == [(0, "cavitation", t_start, t_end)]
    assert viewer.labels_list.count() == 1
    assert viewer.labels_list.item(0).text().startswith(
        f"cavitation: {t_start:.6g} s to {t_end:.6g} s (erin,")
    assert "labelled" in viewer.message_label.text()

    # The whole second recording, as training needs it.
    with qtbot.waitSignal(viewer.sig_loaded, timeout=4000):
        viewer.recording_combo.setCurrentIndex(1)
        viewer.recording_combo.activated.emit(1)
    assert runner.wait_idle(4000)
    assert viewer.recording.name == "run 2" and viewer.labels_list.count() == 0
    viewer.ask_label = lambda _title: "normal"
    qtbot.mouseClick(viewer.label_recording_button, Qt.MouseButton.LeftButton)
    assert runner.wait_idle(4000)
    shown = sv.datasets.show(erin, dataset=info.dataset_id)
    assert (shown.labels[-1].recording, shown.labels[-1].label,
            shown.labels[-1].t_start) == (1, "normal", None)
    assert viewer.labels_list.item(0).text().startswith("normal: whole recording")


def _wheel(viewer: RecordingViewer, lane: int, steps: int) -> None:
    """Turn the mouse wheel over the middle of a lane (positive: zoom in)."""
    view = viewer.lanes[lane].getViewBox()
    centre = view.mapViewToScene(view.viewRect().center())
    pos = QPointF(viewer.plot_widget.mapFromScene(centre))
    vp = viewer.plot_widget.viewport()
    event = QWheelEvent(pos, QPointF(vp.mapToGlobal(pos.toPoint())), QPoint(0, 0),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(vp, event)


def test_wheel_zooms_time_only_and_fit_shows_it_all(qtbot, workspace, runner):
    sv, erin = workspace.services, workspace.engineer
    info = _dataset(sv, erin)
    viewer = _viewer(qtbot, sv, runner, erin)
    with qtbot.waitSignal(viewer.sig_loaded, timeout=4000):
        viewer.show_dataset(info)
    assert runner.wait_idle(4000)
    assert viewer.time_range() == pytest.approx((0.0, 4.0))
    amplitudes = viewer.amplitude_ranges()

    _wheel(viewer, 1, 3)  # over the flow lane
    qtbot.waitUntil(lambda: viewer.time_range()[1] - viewer.time_range()[0] < 3.0,
                    timeout=4000)
    assert viewer.amplitude_ranges() == amplitudes, "the amplitude axes do not zoom"
    lo, hi = viewer.time_range()
    assert 0.0 <= lo < hi <= 4.0
    top, bottom = (lane.getViewBox().viewRange()[0] for lane in viewer.lanes)
    assert top == pytest.approx(bottom), "the lanes share one time axis"

    qtbot.mouseClick(viewer.fit_button, Qt.MouseButton.LeftButton)
    assert viewer.time_range() == pytest.approx((0.0, 4.0))
    assert viewer.amplitude_ranges() == amplitudes

    # A recording with one channel: one lane, still with its unit.
    one = sv.datasets.create_from_arrays(
        erin, action=Action.DATA_IMPORT, name="fan", channels=[ChannelInfo("acc", "g")],
        sample_rate=100.0, provenance={"source": "test"},
        recordings=[RecordingInput("r", np.zeros((1, 500)))])
    with qtbot.waitSignal(viewer.sig_loaded, timeout=4000):
        viewer.show_dataset(one)
    assert runner.wait_idle(4000)
    assert viewer.axis_labels() == ["acc (g)"] and len(viewer.lanes) == 1
    assert viewer.amplitude_ranges() == [(-1.0, 1.0)], "a dead sensor's flat zero line"
    assert viewer.time_range() == pytest.approx((0.0, 5.0))


def test_cancelled_label_question_stores_nothing_and_roles_are_respected(qtbot, workspace,
                                                                        runner):
    sv, erin = workspace.services, workspace.engineer
    info = _dataset(sv, erin)
    viewer = _viewer(qtbot, sv, runner, erin)
    viewer.show_dataset(info)
    assert runner.wait_idle(4000)
    viewer.ask_label = lambda _title: None
    viewer.label_region()
    assert not runner.busy
    assert sv.datasets.show(erin, dataset=info.dataset_id).labels == ()

    auditor_view = _viewer(qtbot, sv, runner, workspace.auditor)
    auditor_view.show_dataset(info)
    assert runner.wait_idle(4000)
    assert auditor_view.curves, "auditors may look"
    assert not auditor_view.label_region_button.isEnabled()
    assert "engineer role" in auditor_view.label_region_button.toolTip()


def test_ten_million_samples_redraw_through_downsampling(qtbot, workspace, runner):
    viewer = _viewer(qtbot, workspace.services, runner, workspace.engineer)
    n_channels, n = 2, 5_000_000  # ten million samples in all
    rng = np.random.default_rng(0)
    data = rng.standard_normal((n_channels, n), dtype=np.float32)
    info = DatasetInfo(dataset_id="f" * 64, name="big", sample_rate=12_000.0,
                       channels=(ChannelInfo("a"), ChannelInfo("b")),
                       recordings=(RecordingInfo(0, "big", n),), provenance={},
                       size_bytes=0, created_at="", created_by="erin")
    began = time.perf_counter()
    viewer.set_recording(info, info.recordings[0], data)
    image = viewer.plot_widget.grab()  # a full paint of the plot
    first = time.perf_counter() - began
    shown = viewer.displayed_point_count()
    # Zoom into one second: clip-to-view drops what is off screen.
    began = time.perf_counter()
    viewer.plot.setXRange(100.0, 101.0, padding=0.0)
    viewer.plot_widget.grab()
    zoomed = time.perf_counter() - began
    zoomed_points = viewer.displayed_point_count()
    print(f"\n10M-sample recording: set + first paint {first:.2f} s "
          f"({shown} points displayed); zoom to 1 s + paint {zoomed:.3f} s "
          f"({zoomed_points} points)")
    assert not image.isNull()
    assert 0 < shown < n_channels * n // 100, "peak downsampling to the screen's width"
    assert 0 < zoomed_points <= n_channels * 12_000 + 10, "clipped to the visible second"


def test_a_wrong_label_is_withdrawn_with_a_reason(qtbot, workspace, runner):
    sv, erin = workspace.services, workspace.engineer
    info = _dataset(sv, erin)
    sv.datasets.label(erin, dataset=info.dataset_id, recording=0, label="cavitaton",
                      t_start=1.0, t_end=2.0)
    viewer = _viewer(qtbot, sv, runner, erin)
    with qtbot.waitSignal(viewer.sig_loaded, timeout=60_000):
        viewer.show_dataset(sv.datasets.show(erin, dataset=info.dataset_id))
    assert runner.wait_idle(60_000)
    assert viewer.labels_list.count() == 1 and not viewer.withdraw_button.isEnabled()
    viewer.labels_list.setCurrentRow(0)
    assert viewer.withdraw_button.isEnabled()
    viewer.ask_reason = lambda _title: None  # cancelled: nothing happens
    qtbot.mouseClick(viewer.withdraw_button, Qt.MouseButton.LeftButton)
    assert runner.wait_idle(60_000) and viewer.labels_list.count() == 1
    viewer.ask_reason = lambda _title: "typo: cavitation"
    with qtbot.waitSignal(viewer.sig_labelled, timeout=60_000):
        qtbot.mouseClick(viewer.withdraw_button, Qt.MouseButton.LeftButton)
    assert runner.wait_idle(60_000)
    assert viewer.labels_list.count() == 0
    assert sv.datasets.show(erin, dataset=info.dataset_id).labels == ()
    assert "withdrawn" in viewer.message_label.text()
    assert not viewer.withdraw_button.isEnabled()
