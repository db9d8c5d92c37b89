"""The Data page: browse datasets, import files with their validation report, acquire, label."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.core.records import DatasetInfo
from app.core.roles import Action
from app.services import Services
from app.services.options import binary_options, csv_options
from app.ui.data_format import ID_PREFIX, dataset_row, words
from app.ui.look import icon
from app.ui.permissions import may, refuse_unless_allowed
from app.ui.styles import GOOD_STYLE
from app.ui.task_runner import TaskRunner
from app.ui.time_format import format_time
from app.ui.widgets.acquisition_panel import AcquisitionPanel
from app.ui.widgets.import_report import ImportReport
from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.page import Page
from app.ui.widgets.recording_viewer import RecordingViewer
from app.ui.widgets.table_text import table_rows

log = logging.getLogger(__name__)

#: The channels a CWRU import takes unless others are named: the drive-end accelerometer,
#: as the README and ``plantml import --cwru --channel DE`` document.
CWRU_CHANNELS = ("DE",)

ALL_CHANNELS_HINT = "all, or e.g. pressure, flow"
CWRU_CHANNELS_HINT = "DE (the drive end, as documented), or e.g. DE, FE"

#: Dataset table columns.
DATASET_COLUMNS = ("name", "id", "recordings", "channels", "duration", "created by")

IMPORT_FILTER = ("Data files (*.csv *.txt *.parquet *.npz *.mat);;CSV (*.csv *.txt);;"
                 "Parquet (*.parquet);;NumPy (*.npz);;MATLAB (*.mat);;All files (*)")

ID_ROLE = Qt.ItemDataRole.UserRole


class DataView(Page):
    """Datasets on the left; on the right the selected recording (with labelling), the last
    import's validation report, and the acquisition panel. Every service call runs on the
    task runner."""

    sig_refreshed = Signal(int)
    """The dataset table was reloaded; carries the number of datasets."""

    sig_imported = Signal(object)
    """Files were imported; carries the service's ImportOutcome."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, parent)
        self.datasets: list[DatasetInfo] = []
        self.outcome = None
        self._shown_once = False
        self._wanted_id: str | None = None

        # ------------------------------------------------------------ left: datasets
        self.table = QTableWidget(0, len(DATASET_COLUMNS))
        self.table.setObjectName("dataset_table")
        self.table.setHorizontalHeaderLabels(list(DATASET_COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.currentCellChanged.connect(self._current_changed)
        self.count_label = QLabel("")
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.clicked.connect(self._refresh_clicked)

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("default: the first file's name")
        self.cwru_check = QCheckBox("CWRU bearing files (label from the file name)")
        self.channels_edit = QLineEdit()
        self.channels_edit.setPlaceholderText(ALL_CHANNELS_HINT)
        self.cwru_check.toggled.connect(self._cwru_toggled)
        self.keys_edit = QLineEdit()
        self.keys_edit.setPlaceholderText("Parquet/NPZ/MAT: columns or arrays, e.g. acc")
        self.rate_spin = QDoubleSpinBox()
        self.rate_spin.setRange(0.0, 10_000_000.0)
        self.rate_spin.setDecimals(3)
        self.rate_spin.setSuffix(" Hz")
        self.rate_spin.setSpecialValueText("from the file")
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("label of every imported recording (optional)")
        self.import_button = QPushButton(icon("import"), "Import...")
        self.import_button.clicked.connect(self.import_files)
        self.jobs = JobControls(runner)
        self.jobs.sig_busy_changed.connect(lambda _busy: self._update_import_button())
        self.progress_bar = self.jobs.progress_bar
        self.cancel_button = self.jobs.cancel_button
        self.message_label = self.jobs.message_label
        options = QGroupBox("Import")
        form = QFormLayout(options)
        form.addRow("Name", self.name_edit)
        form.addRow("", self.cwru_check)
        form.addRow("Channels", self.channels_edit)
        form.addRow("Keys", self.keys_edit)
        form.addRow("Sample rate", self.rate_spin)
        form.addRow("Label", self.label_edit)
        job_row = QHBoxLayout()
        job_row.addWidget(self.import_button)
        job_row.addWidget(self.jobs, 1)
        form.addRow(job_row)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.refresh_button)
        left_layout.addLayout(bottom)
        left_layout.addWidget(options)

        # ------------------------------------------------------------ right: tabs
        self.viewer = RecordingViewer(services, runner, principal)
        self.report = ImportReport()
        self.issues_table = self.report.issues_table
        self.acquisition = AcquisitionPanel(services, runner, principal)
        self.acquisition.sig_acquired.connect(self._acquired)
        self.acquisition.sig_running_changed.connect(self._acquisition_running)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.viewer, "Recording")
        self.tabs.addTab(self.report, "Import report")
        self.tabs.addTab(self.acquisition, "Acquisition")

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        # The dataset table needs room for its six columns; the viewer takes the rest.
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message_label)

        refuse_unless_allowed(self.import_button, principal, Action.DATA_IMPORT, "Importing")

    # ---------------------------------------------------------------- listing

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            self.refresh()

    def refresh(self, select: str | None = None) -> None:
        """Reload the dataset table in the background; then select ``select`` (a dataset
        id) or keep the current selection."""
        self._wanted_id = select or self.current_id()
        principal, listing = self.principal, self.services.datasets.list
        self.read_if_allowed(self.jobs, action=Action.DATA_READ, what="Viewing datasets",
                             button=self.refresh_button, fn=lambda: listing(principal),
                             on_done=self._listed)

    def _refresh_clicked(self, *_args: object) -> None:
        self.refresh()

    def _listed(self, datasets: list[DatasetInfo]) -> None:
        wanted = self._wanted_id
        self.datasets = list(datasets)
        self.table.blockSignals(True)
        try:
            self.table.setRowCount(len(datasets))
            for row, info in enumerate(datasets):
                for col, text in enumerate(dataset_row(info)):
                    item = QTableWidgetItem(text)
                    if col == 0:
                        item.setData(ID_ROLE, info.dataset_id)
                        item.setToolTip(f"{info.dataset_id}\ncreated "
                                        f"{format_time(info.created_at)}, "
                                        f"{info.sample_rate:g} Hz, {info.size_bytes} bytes")
                    self.table.setItem(row, col, item)
        finally:
            self.table.blockSignals(False)
        n = len(datasets)
        self.count_label.setText(f"{n} dataset{'s' if n != 1 else ''}" if n else
                                 "no datasets yet: import files or record a device")
        self.sig_refreshed.emit(n)
        ids = self.dataset_ids()
        if wanted in ids:
            self.select(wanted)
        elif ids:
            self.select(ids[0])

    def dataset_ids(self) -> list[str]:
        """Ids of the listed datasets, in table order (newest first)."""
        return [info.dataset_id for info in self.datasets]

    def dataset_rows(self) -> list[tuple[str, ...]]:
        """What the table shows, row by row."""
        return table_rows(self.table)

    def current_id(self) -> str | None:
        """Id of the selected dataset, or None."""
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        value = item.data(ID_ROLE) if item is not None else None
        return str(value) if value else None

    def select(self, dataset_id: str) -> bool:
        """Select a dataset (its first recording then loads); False if it is not listed."""
        ids = self.dataset_ids()
        if dataset_id not in ids:
            return False
        row = ids.index(dataset_id)
        if self.table.currentRow() == row:
            self._current_changed(row)  # reselecting reloads (the listing may be newer)
        else:
            self.table.setCurrentCell(row, 0)
        return True

    def _current_changed(self, row: int, *_args: object) -> None:
        if 0 <= row < len(self.datasets):
            self.viewer.show_dataset(self.datasets[row])

    # ---------------------------------------------------------------- import

    def choose_files(self) -> list[Path]:
        """Ask for the files to import; [] if the user cancelled. Tests replace this."""
        paths, _ = QFileDialog.getOpenFileNames(self, "Import data files", str(Path.home()),
                                                IMPORT_FILTER)
        return [Path(p) for p in paths]

    def _cwru_toggled(self, on: bool) -> None:
        self.channels_edit.setPlaceholderText(CWRU_CHANNELS_HINT if on else ALL_CHANNELS_HINT)

    def import_files(self, *_args: object) -> None:
        """Ask for files and import them as one dataset, with progress and Cancel; the
        validation report is shown when it ends."""
        if self.jobs.running:
            return
        paths = self.choose_files()
        if not paths:
            return
        name = self.name_edit.text().strip()
        cwru = self.cwru_check.isChecked()
        # CWRU files hold DE, FE and BA arrays; the documented channel is the drive end.
        channels = words(self.channels_edit.text()) or (list(CWRU_CHANNELS) if cwru else None)
        keys = words(self.keys_edit.text()) or None
        rate = float(self.rate_spin.value()) or None
        label = self.label_edit.text().strip() or None
        principal, importer = self.principal, self.services.data_in.import_files

        def run(progress, cancel):
            # Options are built here: a refused option (UsageError) reaches on_error.
            return importer(principal, paths=paths, name=name, cwru=cwru, channels=channels,
                            csv=csv_options(sample_rate=rate, label=label),
                            binary=binary_options(keys=keys, sample_rate=rate, label=label),
                            progress=progress, cancel=cancel)

        self.jobs.run(run, what=f"importing {len(paths)} file{'s' if len(paths) != 1 else ''}",
                      label="import", cancelled="import cancelled: nothing was registered",
                      on_done=self._imported)

    def _imported(self, outcome) -> None:
        self.outcome = outcome
        self.show_report(outcome.reports)
        info = outcome.dataset
        self.jobs.show_message(f"imported {info.name} ({info.dataset_id[:ID_PREFIX]}): "
                           f"{len(info.recordings)} recording"
                           f"{'s' if len(info.recordings) != 1 else ''}, "
                           f"{info.n_samples} samples per channel", GOOD_STYLE)
        self.tabs.setCurrentIndex(1)
        self.sig_imported.emit(outcome)
        self.refresh(select=info.dataset_id)

    def show_report(self, reports: dict[str, dict]) -> None:
        """Show validation reports (file name -> report dict) in the report panel."""
        self.report.show_report(reports)

    def report_text(self) -> str:
        """The report panel as plain text: the summary lines, then one line per issue."""
        return self.report.report_text()

    # ---------------------------------------------------------------- job state

    def cancel_job(self) -> None:
        """Ask the running import to stop; nothing is registered then."""
        self.jobs.cancel()

    @property
    def job_running(self) -> bool:
        """True while an import runs."""
        return self.jobs.running

    def _update_import_button(self) -> None:
        self.import_button.setEnabled(not self.jobs.running
                                      and may(self.principal, Action.DATA_IMPORT)
                                      and not self.acquisition.running)

    def _acquisition_running(self, running: bool) -> None:
        # One worker: an import would only wait for the recording to end.
        if not self.jobs.running:
            self.import_button.setEnabled(not running and may(self.principal,
                                                              Action.DATA_IMPORT))

    def _acquired(self, outcome) -> None:
        first = outcome.datasets[0].dataset_id if outcome.datasets else None
        self.refresh(select=first)
