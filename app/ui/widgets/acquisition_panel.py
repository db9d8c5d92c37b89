"""Acquisition panel: record a Modbus device from a tag map, watching the samples live."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import Cancelled, PlantMLError
from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.ui.look import icon
from app.ui.permissions import may, refuse_unless_allowed
from app.ui.styles import BAD_STYLE, GOOD_STYLE, NOTE_STYLE, show_styled
from app.ui.task_runner import TaskHandle, TaskRunner, describe_error
from app.ui.widgets.live_plot import LivePlot
from app.ui.widgets.page import Page
from app.ui.widgets.tagmap_editor import TagMapDialog

log = logging.getLogger(__name__)

TAGMAP_FILTER = "Tag maps (*.toml);;All files (*)"

#: Longest recording the panel offers (a day); Stop ends any recording early.
MAX_DURATION_S = 86_400.0


class AcquisitionPanel(Page):
    """Tag map, duration, Start/Stop and a live plot; Stop ends the recording early and
    keeps what was recorded. The recording runs on the task runner; its callbacks only
    append to the live plot's ring buffers."""

    sig_acquired = Signal(object)
    """A recording was stored; carries the service's AcquireOutcome."""

    sig_running_changed = Signal(bool)
    """A recording started (True) or ended (False)."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, parent)
        self.outcome = None
        self._job: TaskHandle | None = None

        self.tagmap_edit = QLineEdit()
        self.tagmap_edit.setPlaceholderText("tag map file (.toml)")
        self.browse_button = QPushButton("Browse...")
        self.browse_button.clicked.connect(self._browse)
        self.new_button = QPushButton("New...")
        self.new_button.setToolTip("Write a new tag map: the device, its tags, a test read")
        self.new_button.clicked.connect(self._new_clicked)
        self.edit_button = QPushButton("Edit...")
        self.edit_button.setToolTip("Edit the tag map, check it and read each tag once")
        self.edit_button.clicked.connect(self._edit_clicked)
        self.tagmap_dialog: TagMapDialog | None = None
        self.duration_spin = QDoubleSpinBox()
        self.duration_spin.setRange(0.1, MAX_DURATION_S)
        self.duration_spin.setDecimals(1)
        self.duration_spin.setValue(10.0)
        self.duration_spin.setSuffix(" s")
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("dataset name (default: the tag map's name)")
        self.start_button = QPushButton(icon("record"), "Start")
        self.start_button.clicked.connect(self.start)
        self.stop_button = QPushButton(icon("stop"), "Stop")
        self.stop_button.setToolTip("End the recording now; the samples so far are kept")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setVisible(False)
        self.status_label = QLabel("")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.live_plot = LivePlot()

        tagmap_row = QHBoxLayout()
        tagmap_row.addWidget(self.tagmap_edit, 1)
        tagmap_row.addWidget(self.browse_button)
        tagmap_row.addWidget(self.new_button)
        tagmap_row.addWidget(self.edit_button)
        form = QFormLayout()
        form.addRow("Tag map", tagmap_row)
        form.addRow("Duration", self.duration_spin)
        form.addRow("Name", self.name_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.progress_bar, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        layout.addWidget(self.live_plot, 1)

        refuse_unless_allowed(self.start_button, principal, Action.DATA_ACQUIRE, "Recording")

    # ---------------------------------------------------------------- actions

    def choose_tagmap(self) -> Path | None:
        """Ask for the tag map file; None if the user cancelled. Tests replace this."""
        path, _ = QFileDialog.getOpenFileName(self, "Choose a tag map", str(Path.home()),
                                              TAGMAP_FILTER)
        return Path(path) if path else None

    def _browse(self, *_args: object) -> None:
        path = self.choose_tagmap()
        if path is not None:
            self.tagmap_edit.setText(str(path))

    def new_tagmap(self) -> TagMapDialog:
        """Open the tag-map editor on a new tag map."""
        return self._open_editor(None, None, "")

    def edit_tagmap(self, path: Path | None = None) -> TagMapDialog | None:
        """Open the tag-map editor on ``path`` (else the chosen file, else one asked for);
        None, with the reason shown, if it cannot be read."""
        if path is None:
            text = self.tagmap_edit.text().strip()
            path = Path(text) if text else self.choose_tagmap()
        if path is None:
            return None
        try:
            draft = self.services.data_in.open_tagmap(path)
        except PlantMLError as exc:
            self._show(f"cannot edit the tag map: {describe_error(exc)}", BAD_STYLE)
            return None
        return self._open_editor(path, draft.document, draft.header)

    def _open_editor(self, path: Path | None, document: dict | None,
                     header: str) -> TagMapDialog:
        if self.tagmap_dialog is not None:
            self.tagmap_dialog.close()
        dialog = TagMapDialog(self.services, self.runner, self.principal, path, document,
                              header, self)
        dialog.sig_saved.connect(lambda saved: self.tagmap_edit.setText(str(saved)))
        self.tagmap_dialog = dialog
        dialog.open()
        return dialog

    def _new_clicked(self, *_args: object) -> None:
        self.new_tagmap()

    def _edit_clicked(self, *_args: object) -> None:
        self.edit_tagmap()

    @property
    def running(self) -> bool:
        """True while a recording runs."""
        return self._job is not None

    def start(self, *_args: object) -> None:
        """Start recording the tag map's device for the chosen duration."""
        if self._job is not None:
            return
        text = self.tagmap_edit.text().strip()
        if not text:
            path = self.choose_tagmap()
            if path is None:
                return
            self.tagmap_edit.setText(str(path))
            text = str(path)
        tagmap = Path(text)
        duration = float(self.duration_spin.value())
        name = self.name_edit.text().strip()
        principal, acquire = self.principal, self.services.data_in.acquire
        # The worker gets the feed only: plain buffers, never the widget.
        feed = self.live_plot.feed
        self.live_plot.clear()
        self.live_plot.set_tag_names(tag_names(tagmap))
        self.outcome = None
        self._set_running(True, f"recording {tagmap.name} for {duration:g} s")
        self._job = self.runner.submit(
            lambda progress, cancel: acquire(principal, tagmap=tagmap, duration_s=duration,
                                             name=name, progress=progress, cancel=cancel,
                                             on_row=feed.on_row, on_block=feed.on_block),
            on_done=self._done, on_error=self._failed, on_progress=self._progress)
        self.live_plot.start()

    def stop(self, *_args: object) -> None:
        """End the recording now; what was recorded is stored."""
        if self._job is not None:
            self._job.cancel()
            self.stop_button.setEnabled(False)
            self.progress_bar.setFormat("stopping, storing the samples...")

    # ---------------------------------------------------------------- callbacks

    def _progress(self, fraction: float, message: str) -> None:
        if self._job is None or self._job.cancelled:
            return
        self.progress_bar.setValue(round(max(0.0, min(1.0, fraction)) * 1000))
        self.progress_bar.setFormat(f"{message} (%p%)")

    def _done(self, outcome) -> None:
        self._set_running(False)
        self.outcome = outcome
        stored = "; ".join(f"{d.name} ({d.n_samples} samples)" for d in outcome.datasets)
        text = (f"stored {len(outcome.datasets)} dataset"
                f"{'s' if len(outcome.datasets) != 1 else ''}: {stored or 'no samples'}; "
                f"ended: {outcome.end_reason}")
        if outcome.error:
            text += f" ({outcome.error})"
        self._show(text, BAD_STYLE if outcome.interrupted or outcome.error else GOOD_STYLE)
        self.sig_acquired.emit(outcome)

    def _failed(self, exc: BaseException) -> None:
        self._set_running(False)
        if isinstance(exc, Cancelled):
            self._show("recording stopped before it started", NOTE_STYLE)
        else:
            self._show(f"recording failed: {describe_error(exc)}", BAD_STYLE)

    def _set_running(self, running: bool, what: str = "") -> None:
        if not running:
            self._job = None
            self.live_plot.stop()
        self.start_button.setEnabled(not running and may(self.principal, Action.DATA_ACQUIRE))
        self.stop_button.setEnabled(running)
        self.browse_button.setEnabled(not running)
        self.new_button.setEnabled(not running)
        self.edit_button.setEnabled(not running)
        self.tagmap_edit.setEnabled(not running)
        self.progress_bar.setVisible(running)
        if running:
            self.progress_bar.setValue(0)
            self.progress_bar.setFormat(f"{what} (%p%)")
            self._show("", NOTE_STYLE)
        self.sig_running_changed.emit(running)

    def _show(self, text: str, style: str) -> None:
        show_styled(self.status_label, text, style)


def tag_names(tagmap: Path) -> list[str]:
    """The polled tags' names in tag-map order, for the legend; [] if the file cannot be
    read (the acquisition then reports why)."""
    try:
        doc = tomllib.loads(Path(tagmap).read_text(encoding="utf-8"))
        return [str(tag.get("name", "")) for tag in doc.get("tag", [])]
    except (OSError, ValueError, AttributeError, TypeError):
        return []
