"""Recording viewer: a dataset's recording as stacked curves, with time-range labelling."""

from __future__ import annotations

import logging

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

#: Share of each channel's lane its trace fills (the rest separates the lanes).
LANE_FILL = 0.9

#: Time-range labels drawn as shaded bands at most (the list shows them all).
MAX_BANDS = 50

LABEL_BRUSH = (255, 160, 0, 40)
REGION_BRUSH = (0, 120, 255, 50)


class RecordingViewer(Page):
    """One recording of a dataset, each channel in its own lane over seconds since the
    recording's start; drag the blue region and press "Label region..." to label that time
    range, or "Label recording..." to label the whole recording (what training uses).

    Large recordings stay fluid: the plot downsamples (peak, so spikes survive) to the
    screen's width and clips to the visible time range.
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
        self._bands: list[pg.LinearRegionItem] = []
        self._request = 0
        self._busy = False

        self.recording_combo = QComboBox()
        self.recording_combo.setMinimumContentsLength(20)
        self.recording_combo.activated.connect(self._recording_chosen)
        self.plot_widget = pg.PlotWidget()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.setDownsampling(auto=True, mode="peak")
        self.plot.setClipToView(True)
        self.plot.setLabel("bottom", "time", "s")
        self.plot.showGrid(x=True, alpha=0.3)
        self.plot.setMenuEnabled(False)
        self.region = pg.LinearRegionItem(values=(0.0, 1.0), brush=REGION_BRUSH)
        self.region.setZValue(10)
        self.region.setVisible(False)
        self.plot.addItem(self.region, ignoreBounds=True)
        # A drag's last step emits only sigRegionChangeFinished.
        self.region.sigRegionChanged.connect(self._region_moved)
        self.region.sigRegionChangeFinished.connect(self._region_moved)

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
        """Draw ``data`` (channels, samples) of ``recording``; one lane per channel."""
        data = np.atleast_2d(np.asarray(data))
        self.dataset, self.recording = info, recording
        self._clear_plot()
        rate = info.sample_rate or 1.0
        n = data.shape[1]
        self.duration_s = n / rate
        x = np.arange(n, dtype=np.float64) / rate  # one axis, shared by every curve
        lanes = len(data)
        ticks = []
        for i, row in enumerate(data):
            lane = float(lanes - 1 - i)  # the first channel on top
            y, lo, hi, all_finite = _fit_lane(row, lane)
            channel = info.channels[i] if i < len(info.channels) else None
            name = channel.name if channel else f"channel {i + 1}"
            unit = f" [{channel.unit}]" if channel and channel.unit else ""
            ticks.append((lane, f"{name}{unit}"))
            # Added empty, then filled: the plot's downsampling and clipping apply at once.
            curve = self.plot.plot(pen=pg.intColor(i, hues=max(lanes, 3)))
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            curve.setData(x, y, skipFiniteCheck=all_finite)
            curve.setToolTip(f"{name}: {lo:g} to {hi:g}{unit}")
            self.curves.append(curve)
        self.plot.getAxis("left").setTicks([ticks, []])
        end = max(self.duration_s, 1.0 / rate)
        self.plot.setLimits(xMin=0.0, xMax=end, yMin=-1.0, yMax=float(lanes))
        # An explicit x range (not auto-range) lets clip-to-view drop what is off screen.
        self.plot.setXRange(0.0, end, padding=0.0)
        self.plot.setYRange(-0.5, lanes - 0.5, padding=0.0)
        self.region.setBounds((0.0, end))
        self.region.setRegion((0.4 * end, 0.6 * end))
        self.region.setVisible(True)
        self._show_labels()
        self._update_buttons()
        self.sig_loaded.emit(recording)

    def _clear_plot(self) -> None:
        for curve in self.curves:
            self.plot.removeItem(curve)
        self.curves.clear()
        for band in self._bands:
            self.plot.removeItem(band)
        self._bands.clear()
        self.region.setVisible(False)
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
        for band in self._bands:
            self.plot.removeItem(band)
        self._bands.clear()
        for lb in self.labels():
            if lb.t_start is None:
                text = f"{lb.label}: whole recording"
            else:
                text = f"{lb.label}: {lb.t_start:.6g} s to {lb.t_end:.6g} s"
                if len(self._bands) < MAX_BANDS:
                    band = pg.LinearRegionItem(values=(lb.t_start, lb.t_end), movable=False,
                                               brush=LABEL_BRUSH)
                    band.setToolTip(lb.label)
                    self.plot.addItem(band, ignoreBounds=True)
                    self._bands.append(band)
            self.labels_list.addItem(f"{text} ({lb.created_by}, {lb.created_at[:19]})")

    def region_range(self) -> tuple[float, float]:
        """Start and end of the blue region in seconds."""
        lo, hi = self.region.getRegion()
        return float(lo), float(hi)

    def set_region(self, t_start: float, t_end: float) -> None:
        """Move the blue region (as dragging it does)."""
        self.region.setRegion((t_start, t_end))

    def _region_moved(self, *_args: object) -> None:
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


def _fit_lane(row: np.ndarray, lane: float) -> tuple[np.ndarray, float, float, bool]:
    """``row`` scaled into its lane (centre ``lane``, height LANE_FILL), its range, and
    whether every sample is finite."""
    row = np.asarray(row, dtype=np.float64)
    lo, hi = float(np.min(row)), float(np.max(row))  # NaN if any sample is NaN
    all_finite = np.isfinite(lo) and np.isfinite(hi)
    if not all_finite:
        finite = row[np.isfinite(row)]
        if not len(finite):
            return np.full(row.shape, lane), float("nan"), float("nan"), False
        lo, hi = float(finite.min()), float(finite.max())
    half = (hi - lo) / 2 or 1.0
    y = (row - (lo + hi) / 2) * (LANE_FILL / 2 / half) + lane
    return y, lo, hi, bool(all_finite)
