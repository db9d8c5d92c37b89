"""Recording viewer: a dataset's recording as stacked curves, with time-range labelling."""

from __future__ import annotations

import logging
import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.core.records import DatasetInfo, LabelInfo, RecordingInfo
from app.core.roles import Action
from app.services import Services
from app.ui.permissions import may, refusal_text
from app.ui.styles import BAD_STYLE, GOOD_STYLE, NOTE_STYLE, show_styled
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets.page import Page

log = logging.getLogger(__name__)

#: Padding above and below a lane's data range (share of the range).
LANE_PAD = 0.05

#: Width of every lane's amplitude axis, so the lanes' time axes line up.
AXIS_WIDTH = 80

#: Time-range labels drawn as shaded bands at most (the list shows them all).
MAX_BANDS = 50

LABEL_BRUSH = (255, 160, 0, 40)
REGION_BRUSH = (0, 120, 255, 50)


class RecordingViewer(Page):
    """One recording of a dataset, each channel in its own lane over seconds since the
    recording's start, its amplitude axis in the channel's own unit (a healthy recording
    does not look as loud as a fault); drag the blue region and press "Label region..." to
    label that time range, or "Label recording..." to label the whole recording (what
    training uses).

    The mouse wheel and dragging zoom and pan time only (the lanes share it); "Fit" shows
    the whole recording again. Large recordings stay fluid: each lane downsamples (peak, so
    spikes survive) to the screen's width and clips to the visible time range.
    """

    sig_loaded = Signal(object)
    """A recording is shown; carries its RecordingInfo."""

    sig_labelled = Signal(object)
    """A label was stored; carries the service's LabelInfo."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, parent)
        self.dataset: DatasetInfo | None = None
        self.recording: RecordingInfo | None = None
        self.duration_s = 0.0
        self.curves: list[pg.PlotDataItem] = []
        self.lanes: list[pg.PlotItem] = []
        self._regions: list[pg.LinearRegionItem] = []
        self._bands: list[tuple[pg.PlotItem, pg.LinearRegionItem]] = []
        self._y_ranges: list[tuple[float, float]] = []
        self._syncing = False
        self._request = 0
        self._busy = False

        self.recording_combo = QComboBox()
        self.recording_combo.setMinimumContentsLength(20)
        self.recording_combo.activated.connect(self._recording_chosen)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Show the whole recording, each lane's full amplitude "
                                   "range (the mouse wheel zooms time only)")
        self.fit_button.clicked.connect(self._fit_clicked)
        self.plot_widget = pg.GraphicsLayoutWidget()
        self.plot_widget.ci.layout.setSpacing(2)
        # The top lane exists from the start: it holds the blue region a drag moves.
        self.plot = self._add_lane()
        self.region = self._regions[0]

        self.region_label = QLabel("")
        self.label_region_button = QPushButton("Label region...")
        self.label_region_button.setToolTip("Label the time range of the blue region")
        self.label_region_button.clicked.connect(self.label_region)
        self.label_recording_button = QPushButton("Label recording...")
        self.label_recording_button.setToolTip("Label the whole recording (training uses "
                                               "these labels)")
        self.label_recording_button.clicked.connect(self.label_recording)
        self.labels_list = QListWidget()
        self.labels_list.setObjectName("labels_list")
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(QLabel("Recording"))
        top.addWidget(self.recording_combo, 1)
        top.addWidget(self.fit_button)
        actions = QHBoxLayout()
        actions.addWidget(self.region_label, 1)
        actions.addWidget(self.label_region_button)
        actions.addWidget(self.label_recording_button)
        labels_box = QWidget()
        labels_layout = QVBoxLayout(labels_box)
        labels_layout.setContentsMargins(0, 0, 0, 0)
        labels_layout.addWidget(QLabel("Labels of this recording"))
        labels_layout.addWidget(self.labels_list, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.plot_widget)
        splitter.addWidget(labels_box)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message_label)
        self._update_buttons()

    # ---------------------------------------------------------------- lanes

    def _add_lane(self) -> pg.PlotItem:
        """A lane: its own amplitude axis, time shared with the top lane, wheel on time."""
        lane = self.plot_widget.addPlot(row=len(self.lanes), col=0)
        lane.setDownsampling(auto=True, mode="peak")
        lane.setClipToView(True)
        lane.showGrid(x=True, y=True, alpha=0.3)
        lane.setMenuEnabled(False)
        lane.hideButtons()  # the "A" button would auto-range; "Fit" above says what it does
        # Time only: the wheel over a lane must not squash it into vertical bars.
        lane.setMouseEnabled(x=True, y=False)
        lane.enableAutoRange(x=False, y=False)
        axis = lane.getAxis("left")
        axis.setWidth(AXIS_WIDTH)
        # "m3/h" must not become "mm3/h", nor a 2000 s recording "ks".
        axis.enableAutoSIPrefix(False)
        bottom = lane.getAxis("bottom")
        bottom.enableAutoSIPrefix(False)
        if self.lanes:
            lane.setXLink(self.lanes[0])
        region = pg.LinearRegionItem(values=(0.0, 1.0), brush=REGION_BRUSH)
        region.setZValue(10)
        region.setVisible(False)
        lane.addItem(region, ignoreBounds=True)
        # A drag's last step emits only sigRegionChangeFinished.
        region.sigRegionChanged.connect(self._region_moved)
        region.sigRegionChangeFinished.connect(self._region_moved)
        self.lanes.append(lane)
        self._regions.append(region)
        return lane

    def _set_lane_count(self, n: int) -> None:
        while len(self.lanes) < n:
            self._add_lane()
        while len(self.lanes) > max(n, 1):
            lane = self.lanes.pop()
            region = self._regions.pop()
            region.sigRegionChanged.disconnect(self._region_moved)
            region.sigRegionChangeFinished.disconnect(self._region_moved)
            self.plot_widget.removeItem(lane)
        for i, lane in enumerate(self.lanes):
            last = i == len(self.lanes) - 1
            if last:
                lane.setLabel("bottom", "time", units="s")  # (this shows the axis)
            lane.showAxis("bottom", last)  # one time axis, under the bottom lane

    # ---------------------------------------------------------------- loading

    def show_dataset(self, info: DatasetInfo, recording: int = 0) -> None:
        """List ``info``'s recordings and load ``recording`` in the background."""
        self.dataset = info
        self.recording_combo.clear()
        for rec in info.recordings:
            self.recording_combo.addItem(f"{rec.index}: {rec.name} ({rec.n_samples} samples)",
                                         rec.index)
        if info.recordings:
            index = min(max(recording, 0), len(info.recordings) - 1)
            self.recording_combo.setCurrentIndex(index)
            self.load(info.dataset_id, info.recordings[index].index)
        else:
            self._clear_plot()

    def _recording_chosen(self, row: int) -> None:
        if self.dataset is not None and row >= 0:
            self.load(self.dataset.dataset_id, int(self.recording_combo.itemData(row)))

    def load(self, dataset_id: str, recording: int) -> None:
        """Read ``recording`` of the dataset on the task runner, then show it."""
        self._request += 1
        request = self._request
        load, principal = self.services.datasets.load, self.principal

        def read():
            info, arrays = load(principal, dataset=dataset_id)
            for rec, data in arrays:
                if rec.index == recording:
                    return info, rec, data
            raise LookupError(f"recording {recording} not in {dataset_id[:12]}")

        self._show_message(f"loading recording {recording}...", NOTE_STYLE)
        self.runner.submit(read, on_done=lambda out: self._loaded(request, out),
                           on_error=self._failed, cancellable=False, writes=False)

    def _loaded(self, request: int, out: tuple[DatasetInfo, RecordingInfo, np.ndarray]) -> None:
        if request != self._request:
            return  # the user chose another recording meanwhile
        info, rec, data = out
        self.set_recording(info, rec, data)
        self._show_message("", NOTE_STYLE)

    def _failed(self, exc: BaseException) -> None:
        self._show_message(describe_error(exc), BAD_STYLE)

    # ---------------------------------------------------------------- drawing

    def set_recording(self, info: DatasetInfo, recording: RecordingInfo,
                      data: np.ndarray) -> None:
        """Draw ``data`` (channels, samples) of ``recording``; one lane per channel, each
        in the channel's unit."""
        data = np.atleast_2d(np.asarray(data))
        self.dataset, self.recording = info, recording
        self._clear_plot()
        rate = info.sample_rate or 1.0
        n = data.shape[1]
        self.duration_s = n / rate
        x = np.arange(n, dtype=np.float64) / rate  # one axis, shared by every curve
        self._set_lane_count(len(data))
        self._y_ranges = []
        for i, (row, lane) in enumerate(zip(data, self.lanes, strict=True)):
            lo, hi, all_finite = _data_range(row)
            channel = info.channels[i] if i < len(info.channels) else None
            name = channel.name if channel else f"channel {i + 1}"
            unit = channel.unit if channel and channel.unit else ""
            lane.setLabel("left", name, units=unit or "unit not recorded")
            # Added empty, then filled: the lane's downsampling and clipping apply at once.
            curve = lane.plot(pen=pg.intColor(i, hues=max(len(data), 3)))
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            curve.setData(x, row, skipFiniteCheck=all_finite)
            suffix = f" {unit}" if unit else ""
            curve.setToolTip(f"{name}: {lo:g} to {hi:g}{suffix}")
            self.curves.append(curve)
            self._y_ranges.append(_padded(lo, hi))
        end = max(self.duration_s, 1.0 / rate)
        for lane in self.lanes:
            lane.setLimits(xMin=0.0, xMax=end)
            # Again once labelled and laid out: a width set on a lane not yet shown is lost,
            # and lanes of unequal widths would skew the shared time axis.
            lane.getAxis("left").setWidth(AXIS_WIDTH)
        # Lay the lanes out now, not at the next event: the time axis links by geometry.
        self.plot_widget.ci.layout.activate()
        for lane in self.lanes:
            lane.layout.activate()
        for region in self._regions:
            region.setBounds((0.0, end))
        self.fit()
        self.set_region(0.4 * end, 0.6 * end)
        for region in self._regions:
            region.setVisible(True)
        self._show_labels()
        self._update_buttons()
        self.sig_loaded.emit(recording)

    def fit(self) -> None:
        """The whole recording in time, each lane its full amplitude range."""
        if not self.curves:
            return
        # An explicit x range (not auto-range) lets clip-to-view drop what is off screen.
        self.lanes[0].setXRange(0.0, max(self.duration_s, 1e-9), padding=0.0)
        for lane, (lo, hi) in zip(self.lanes, self._y_ranges, strict=False):
            lane.setYRange(lo, hi, padding=0.0)

    def _fit_clicked(self, *_args: object) -> None:
        self.fit()

    def time_range(self) -> tuple[float, float]:
        """The time span shown, in seconds."""
        lo, hi = self.lanes[0].viewRange()[0]
        return float(lo), float(hi)

    def amplitude_ranges(self) -> list[tuple[float, float]]:
        """Each lane's amplitude axis span, in its channel's unit, top lane first."""
        return [(float(lane.viewRange()[1][0]), float(lane.viewRange()[1][1]))
                for lane in self.lanes[:len(self.curves)]]

    def axis_labels(self) -> list[str]:
        """Each lane's amplitude axis title, e.g. ``pressure (bar)``, top lane first."""
        return [_plain(lane.getAxis("left").labelString())
                for lane in self.lanes[:len(self.curves)]]

    def _clear_plot(self) -> None:
        for curve, lane in zip(self.curves, self.lanes, strict=False):
            lane.removeItem(curve)
        self.curves.clear()
        for lane, band in self._bands:
            lane.removeItem(band)
        self._bands.clear()
        for region in self._regions:
            region.setVisible(False)
        self.labels_list.clear()
        self._update_buttons()

    def displayed_point_count(self) -> int:
        """Points the curves display now, after downsampling and clipping."""
        total = 0
        for curve in self.curves:
            x, _ = curve.getData()
            total += 0 if x is None else len(x)
        return total

    # ---------------------------------------------------------------- labels

    def labels(self) -> list[LabelInfo]:
        """The shown recording's labels, oldest first."""
        if self.dataset is None or self.recording is None:
            return []
        return [lb for lb in self.dataset.labels if lb.recording == self.recording.index]

    def _show_labels(self) -> None:
        self.labels_list.clear()
        for lane, band in self._bands:
            lane.removeItem(band)
        self._bands.clear()
        drawn = 0
        for lb in self.labels():
            if lb.t_start is None:
                text = f"{lb.label}: whole recording"
            else:
                text = f"{lb.label}: {lb.t_start:.6g} s to {lb.t_end:.6g} s"
                if drawn < MAX_BANDS:
                    drawn += 1
                    for lane in self.lanes[:max(len(self.curves), 1)]:
                        band = pg.LinearRegionItem(values=(lb.t_start, lb.t_end),
                                                   movable=False, brush=LABEL_BRUSH)
                        band.setToolTip(lb.label)
                        lane.addItem(band, ignoreBounds=True)
                        self._bands.append((lane, band))
            self.labels_list.addItem(f"{text} ({lb.created_by}, {lb.created_at[:19]})")

    def region_range(self) -> tuple[float, float]:
        """Start and end of the blue region in seconds."""
        lo, hi = self.region.getRegion()
        return float(lo), float(hi)

    def set_region(self, t_start: float, t_end: float) -> None:
        """Move the blue region (as dragging it does)."""
        self.region.setRegion((t_start, t_end))

    def _region_moved(self, moved: object = None) -> None:
        # One region per lane, kept together: a drag in any lane moves them all.
        if self._syncing:
            return
        source = moved if isinstance(moved, pg.LinearRegionItem) else self.region
        span = source.getRegion()
        self._syncing = True
        try:
            for region in self._regions:
                if region is not source:
                    region.setRegion(span)
        finally:
            self._syncing = False
        lo, hi = self.region_range()
        self.region_label.setText(f"region {lo:.6g} s to {hi:.6g} s ({hi - lo:.4g} s)")

    def ask_label(self, title: str) -> str | None:
        """Ask for the label text; None if the user cancelled. Tests replace this."""
        text, ok = QInputDialog.getText(self, title, "Label:")
        return text.strip() if ok and text.strip() else None

    def label_region(self, *_args: object) -> None:
        """Ask for a label and store it for the blue region's time range."""
        if self.recording is None:
            return
        t_start, t_end = self.region_range()
        label = self.ask_label(f"Label {t_start:.6g} s to {t_end:.6g} s")
        if label is not None:
            self._store(label, t_start, t_end)

    def label_recording(self, *_args: object) -> None:
        """Ask for a label and store it for the whole recording."""
        if self.recording is None:
            return
        label = self.ask_label(f"Label recording {self.recording.name}")
        if label is not None:
            self._store(label, None, None)

    def _store(self, label: str, t_start: float | None, t_end: float | None) -> None:
        assert self.dataset is not None and self.recording is not None
        dataset_id, recording = self.dataset.dataset_id, self.recording.index
        principal, datasets = self.principal, self.services.datasets

        def store():
            stored = datasets.label(principal, dataset=dataset_id, recording=recording,
                                    label=label, t_start=t_start, t_end=t_end)
            return stored, datasets.show(principal, dataset=dataset_id)

        self._set_busy(True)
        self.runner.submit(store, on_done=self._stored, on_error=self._store_failed,
                           cancellable=False)

    def _stored(self, out: tuple[LabelInfo, DatasetInfo]) -> None:
        stored, info = out
        self._set_busy(False)
        if self.dataset is not None and info.dataset_id == self.dataset.dataset_id:
            self.dataset = info
            self._show_labels()
        where = ("the whole recording" if stored.t_start is None
                 else f"{stored.t_start:.6g} s to {stored.t_end:.6g} s")
        self._show_message(f"labelled {where} as {stored.label!r}", GOOD_STYLE)
        self.sig_labelled.emit(stored)

    def _store_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self._show_message(f"labelling failed: {describe_error(exc)}", BAD_STYLE)

    # ---------------------------------------------------------------- helpers

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        self._update_buttons()

    def _update_buttons(self) -> None:
        allowed = may(self.principal, Action.DATA_LABEL)
        ready = self.recording is not None and bool(self.curves) and not self._busy
        for button in (self.label_region_button, self.label_recording_button):
            button.setEnabled(allowed and ready)
            button.setToolTip("" if allowed else
                              refusal_text(self.principal, Action.DATA_LABEL, "Labelling"))

    def _show_message(self, text: str, style: str) -> None:
        show_styled(self.message_label, text, style)


def _data_range(row: np.ndarray) -> tuple[float, float, bool]:
    """The finite minimum and maximum of ``row`` (NaN, NaN if none) and whether every
    sample is finite."""
    row = np.asarray(row)
    lo, hi = float(np.min(row)), float(np.max(row))  # NaN if any sample is NaN
    if np.isfinite(lo) and np.isfinite(hi):
        return lo, hi, True
    finite = row[np.isfinite(row)]
    if not len(finite):
        return float("nan"), float("nan"), False
    return float(finite.min()), float(finite.max()), False


def _padded(lo: float, hi: float) -> tuple[float, float]:
    """An amplitude span around [lo, hi]; a flat or empty lane still gets a span."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return -1.0, 1.0
    # A flat line gets a span around its level (a dead sensor's zero: one unit).
    pad = (hi - lo) * LANE_PAD if hi > lo else abs(lo) * LANE_PAD or 1.0
    return lo - pad, hi + pad


def _plain(html: str) -> str:
    """An axis title without pyqtgraph's markup."""
    return re.sub(r"<[^>]*>", "", html).replace("&nbsp;", " ").strip()
