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
from app.ui.widgets.label_list import LabelList
from app.ui.widgets.page import Page
from app.ui.widgets.recording_lanes import RecordingLanes

log = logging.getLogger(__name__)


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
        self._request = 0
        self._busy = False

        self.recording_combo = QComboBox()
        self.recording_combo.setMinimumContentsLength(20)
        self.recording_combo.activated.connect(self._recording_chosen)
        self.fit_button = QPushButton("Fit")
        self.fit_button.setToolTip("Show the whole recording, each lane's full amplitude "
                                   "range (the mouse wheel zooms time only)")
        self.fit_button.clicked.connect(self._fit_clicked)
        self.plot_widget = RecordingLanes()
        self.plot = self.plot_widget.plot
        self.region = self.plot_widget.region

        self.region_label = QLabel("")
        self.plot_widget.sig_region_moved.connect(self._region_moved)
        self.label_region_button = QPushButton("Label region...")
        self.label_region_button.setToolTip("Label the time range of the blue region")
        self.label_region_button.clicked.connect(self.label_region)
        self.label_recording_button = QPushButton("Label recording...")
        self.label_recording_button.setToolTip("Label the whole recording (training uses "
                                               "these labels)")
        self.label_recording_button.clicked.connect(self.label_recording)
        self.labels_box = LabelList()
        self.labels_list = self.labels_box.list
        self.labels_list.currentRowChanged.connect(lambda _row: self._update_buttons())
        self.withdraw_button = self.labels_box.withdraw_button
        self.withdraw_button.clicked.connect(self.withdraw_selected)
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
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.plot_widget)
        splitter.addWidget(self.labels_box)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message_label)
        self._update_buttons()

    @property
    def lanes(self) -> list[pg.PlotItem]:
        """The lanes, top first (one per channel of the recording shown)."""
        return self.plot_widget.lanes

    @property
    def curves(self) -> list[pg.PlotDataItem]:
        """The recording's curves, one per lane, top first."""
        return self.plot_widget.curves

    @property
    def duration_s(self) -> float:
        """The length of the recording shown, in seconds."""
        return self.plot_widget.duration_s

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
        self.dataset, self.recording = info, recording
        self._clear_plot()
        self.plot_widget.draw(info, data)
        self._show_labels()
        self._update_buttons()
        self.sig_loaded.emit(recording)

    def fit(self) -> None:
        """The whole recording in time, each lane its full amplitude range."""
        self.plot_widget.fit()

    def _fit_clicked(self, *_args: object) -> None:
        self.fit()

    def time_range(self) -> tuple[float, float]:
        """The time span shown, in seconds."""
        return self.plot_widget.time_range()

    def amplitude_ranges(self) -> list[tuple[float, float]]:
        """Each lane's amplitude axis span, in its channel's unit, top lane first."""
        return self.plot_widget.amplitude_ranges()

    def axis_labels(self) -> list[str]:
        """Each lane's amplitude axis title, e.g. ``pressure (bar)``, top lane first."""
        return self.plot_widget.axis_labels()

    def _clear_plot(self) -> None:
        self.plot_widget.clear_recording()
        self.labels_list.clear()
        self._update_buttons()

    def displayed_point_count(self) -> int:
        """Points the curves display now, after downsampling and clipping."""
        return self.plot_widget.displayed_point_count()

    # ---------------------------------------------------------------- labels

    def labels(self) -> list[LabelInfo]:
        """The shown recording's labels, oldest first."""
        if self.dataset is None or self.recording is None:
            return []
        return [lb for lb in self.dataset.labels if lb.recording == self.recording.index]

    def _show_labels(self) -> None:
        labels = self.labels()
        self.labels_box.show_labels(labels)
        self.plot_widget.show_bands(labels)
        self._update_buttons()

    def region_range(self) -> tuple[float, float]:
        """Start and end of the blue region in seconds."""
        return self.plot_widget.region_range()

    def set_region(self, t_start: float, t_end: float) -> None:
        """Move the blue region (as dragging it does)."""
        self.plot_widget.set_region(t_start, t_end)

    def _region_moved(self, lo: float, hi: float) -> None:
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

    def ask_reason(self, title: str) -> str | None:
        """Ask why a label is withdrawn; None if the user cancelled. Tests replace this."""
        text, ok = QInputDialog.getText(self, title, "Why (audited):")
        return text.strip() if ok and text.strip() else None

    def withdraw_selected(self, *_args: object) -> None:
        """Withdraw the label selected in the list, with a reason."""
        chosen = self.labels_box.selected()
        if chosen is None or self.dataset is None:
            return
        label_id, text = chosen
        reason = self.ask_reason(f"Withdraw the label {text}")
        if reason is None:
            return
        dataset_id = self.dataset.dataset_id
        principal, datasets = self.principal, self.services.datasets

        def withdraw():
            gone = datasets.withdraw_label(principal, dataset=dataset_id, label_id=label_id,
                                           reason=reason)
            return gone, datasets.show(principal, dataset=dataset_id)

        self._set_busy(True)
        self.runner.submit(withdraw, on_done=self._withdrawn, on_error=self._store_failed,
                           cancellable=False)

    def _withdrawn(self, out: tuple[LabelInfo, DatasetInfo]) -> None:
        gone, info = out
        self._set_busy(False)
        if self.dataset is not None and info.dataset_id == self.dataset.dataset_id:
            self.dataset = info
            self._show_labels()
        self._show_message(f"label {gone.label!r} withdrawn", GOOD_STYLE)
        self.sig_labelled.emit(gone)

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
        chosen = self.labels_list.currentItem() is not None
        self.withdraw_button.setEnabled(allowed and chosen and not self._busy)
        if not allowed:
            self.withdraw_button.setToolTip(
                refusal_text(self.principal, Action.DATA_LABEL, "Withdrawing labels"))

    def _show_message(self, text: str, style: str) -> None:
        show_styled(self.message_label, text, style)

