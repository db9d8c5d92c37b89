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
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import Cancelled
from app.core.principal import Principal
from app.core.records import DatasetInfo
from app.core.roles import Action
from app.services import Services
from app.services.options import binary_options, csv_options
from app.ui.acquisition_panel import AcquisitionPanel
from app.ui.audit_table_model import format_time
from app.ui.permissions import may, refusal_text
from app.ui.recording_viewer import RecordingViewer
from app.ui.task_runner import TaskHandle, TaskRunner, describe_error

log = logging.getLogger(__name__)

GOOD_STYLE = "color: #1b5e20; font-weight: bold;"
BAD_STYLE = "color: #b00020; font-weight: bold;"
NOTE_STYLE = "color: #555555;"

#: Dataset table columns.
DATASET_COLUMNS = ("name", "id", "recordings", "channels", "duration", "created by")

#: Validation issue table columns.
ISSUE_COLUMNS = ("file", "where", "column", "reason", "action")

#: Characters of the dataset id shown (enough to name it in the CLI).
ID_PREFIX = 12

IMPORT_FILTER = ("Data files (*.csv *.txt *.parquet *.npz *.mat);;CSV (*.csv *.txt);;"
                 "Parquet (*.parquet);;NumPy (*.npz);;MATLAB (*.mat);;All files (*)")

ID_ROLE = Qt.ItemDataRole.UserRole


class DataView(QWidget):
    """Datasets on the left; on the right the selected recording (with labelling), the last
    import's validation report, and the acquisition panel. Every service call runs on the
    task runner."""

    sig_refreshed = Signal(int)
    """The dataset table was reloaded; carries the number of datasets."""

    sig_imported = Signal(object)
    """Files were imported; carries the service's ImportOutcome."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.principal = principal
        self.datasets: list[DatasetInfo] = []
        self.outcome = None
        self._job: TaskHandle | None = None
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
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self._refresh_clicked)

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("default: the first file's name")
        self.cwru_check = QCheckBox("CWRU bearing files (label from the file name)")
        self.channels_edit = QLineEdit()
        self.channels_edit.setPlaceholderText("all, or e.g. pressure, flow")
        self.keys_edit = QLineEdit()
        self.keys_edit.setPlaceholderText("Parquet/NPZ/MAT: columns or arrays, e.g. acc")
        self.rate_spin = QDoubleSpinBox()
        self.rate_spin.setRange(0.0, 10_000_000.0)
        self.rate_spin.setDecimals(3)
        self.rate_spin.setSuffix(" Hz")
        self.rate_spin.setSpecialValueText("from the file")
        self.label_edit = QLineEdit()
        self.label_edit.setPlaceholderText("label of every imported recording (optional)")
        self.import_button = QPushButton("Import...")
        self.import_button.clicked.connect(self.import_files)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_job)
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
        job_row.addWidget(self.progress_bar, 1)
        job_row.addWidget(self.cancel_button)
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
        self.report_label = QPlainTextEdit()
        self.report_label.setReadOnly(True)
        self.report_label.setMaximumHeight(90)
        self.issues_table = QTableWidget(0, len(ISSUE_COLUMNS))
        self.issues_table.setObjectName("issues_table")
        self.issues_table.setHorizontalHeaderLabels(list(ISSUE_COLUMNS))
        self.issues_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.issues_table.verticalHeader().setVisible(False)
        self.issues_table.horizontalHeader().setStretchLastSection(True)
        report = QWidget()
        report_layout = QVBoxLayout(report)
        report_layout.addWidget(QLabel("Rows read, accepted, rejected and flagged per file"))
        report_layout.addWidget(self.report_label)
        report_layout.addWidget(QLabel("Issues, by line of the file (or row)"))
        report_layout.addWidget(self.issues_table, 1)
        self.acquisition = AcquisitionPanel(services, runner, principal)
        self.acquisition.sig_acquired.connect(self._acquired)
        self.acquisition.sig_running_changed.connect(self._acquisition_running)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.viewer, "Recording")
        self.tabs.addTab(report, "Import report")
        self.tabs.addTab(self.acquisition, "Acquisition")

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message_label)

        if not may(principal, Action.DATA_IMPORT):
            self.import_button.setEnabled(False)
            self.import_button.setToolTip(refusal_text(principal, Action.DATA_IMPORT,
                                                       "Importing"))

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
        if not may(self.principal, Action.DATA_READ):
            self._show_message(refusal_text(self.principal, Action.DATA_READ,
                                            "Viewing datasets"), NOTE_STYLE)
            self.refresh_button.setEnabled(False)
            return
        principal, listing = self.principal, self.services.datasets.list
        self.refresh_button.setEnabled(False)
        self.runner.submit(lambda: listing(principal), on_done=self._listed,
                           on_error=self._list_failed, cancellable=False)

    def _refresh_clicked(self, *_args: object) -> None:
        self.refresh()

    def _listed(self, datasets: list[DatasetInfo]) -> None:
        self.refresh_button.setEnabled(True)
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

    def _list_failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self._show_message(describe_error(exc), BAD_STYLE)

    def dataset_ids(self) -> list[str]:
        """Ids of the listed datasets, in table order (newest first)."""
        return [info.dataset_id for info in self.datasets]

    def dataset_rows(self) -> list[tuple[str, ...]]:
        """What the table shows, row by row."""
        return [tuple(self.table.item(r, c).text() for c in range(self.table.columnCount()))
                for r in range(self.table.rowCount())]

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

    def import_files(self, *_args: object) -> None:
        """Ask for files and import them as one dataset, with progress and Cancel; the
        validation report is shown when it ends."""
        if self._job is not None:
            return
        paths = self.choose_files()
        if not paths:
            return
        name = self.name_edit.text().strip()
        cwru = self.cwru_check.isChecked()
        channels = _words(self.channels_edit.text()) or None
        keys = _words(self.keys_edit.text()) or None
        rate = float(self.rate_spin.value()) or None
        label = self.label_edit.text().strip() or None
        principal, importer = self.principal, self.services.data_in.import_files

        def run(progress, cancel):
            # Options are built here: a refused option (UsageError) reaches on_error.
            return importer(principal, paths=paths, name=name, cwru=cwru, channels=channels,
                            csv=csv_options(sample_rate=rate, label=label),
                            binary=binary_options(keys=keys, sample_rate=rate, label=label),
                            progress=progress, cancel=cancel)

        self._start_job(f"importing {len(paths)} file{'s' if len(paths) != 1 else ''}")
        self._job = self.runner.submit(run, on_done=self._imported,
                                       on_error=self._import_failed,
                                       on_progress=self._progress)

    def _imported(self, outcome) -> None:
        self._end_job()
        self.outcome = outcome
        self.show_report(outcome.reports)
        info = outcome.dataset
        self._show_message(f"imported {info.name} ({info.dataset_id[:ID_PREFIX]}): "
                           f"{len(info.recordings)} recording"
                           f"{'s' if len(info.recordings) != 1 else ''}, "
                           f"{info.n_samples} samples per channel", GOOD_STYLE)
        self.tabs.setCurrentIndex(1)
        self.sig_imported.emit(outcome)
        self.refresh(select=info.dataset_id)

    def _import_failed(self, exc: BaseException) -> None:
        self._end_job()
        if isinstance(exc, Cancelled):
            self._show_message("import cancelled: nothing was registered", NOTE_STYLE)
        else:
            self._show_message(f"import failed: {describe_error(exc)}", BAD_STYLE)

    def show_report(self, reports: dict[str, dict]) -> None:
        """Show validation reports (file name -> report dict) in the report panel."""
        self.report_label.setPlainText("\n".join(
            f"{name}: {rep.get('rows_in', 0)} rows read, {rep.get('rows_accepted', 0)} "
            f"accepted, {rep.get('rows_rejected', 0)} rejected, "
            f"{rep.get('rows_flagged', 0)} flagged" + _extra(rep)
            for name, rep in reports.items()))
        rows = [(name, issue) for name, rep in reports.items() for issue in rep.get("issues", [])]
        self.issues_table.setRowCount(len(rows))
        for r, (name, issue) in enumerate(rows):
            for c, text in enumerate((name, _where(issue), str(issue.get("column") or ""),
                                      str(issue.get("reason", "")),
                                      str(issue.get("action", "")))):
                self.issues_table.setItem(r, c, QTableWidgetItem(text))

    def report_text(self) -> str:
        """The report panel as plain text: the summary lines, then one line per issue."""
        lines = [self.report_label.toPlainText()]
        for r in range(self.issues_table.rowCount()):
            lines.append(" | ".join(self.issues_table.item(r, c).text()
                                    for c in range(self.issues_table.columnCount())))
        return "\n".join(lines)

    # ---------------------------------------------------------------- job plumbing

    def cancel_job(self) -> None:
        """Ask the running import to stop; nothing is registered then."""
        if self._job is not None:
            self._job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_bar.setFormat("cancelling...")

    @property
    def job_running(self) -> bool:
        """True while an import runs."""
        return self._job is not None

    def _start_job(self, what: str) -> None:
        self.import_button.setEnabled(False)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(f"{what} (%p%)")
        self.progress_bar.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setVisible(True)
        self._show_message("", NOTE_STYLE)

    def _progress(self, fraction: float, message: str) -> None:
        if self._job is None or self._job.cancelled:
            return
        self.progress_bar.setValue(round(max(0.0, min(1.0, fraction)) * 1000))
        self.progress_bar.setFormat(f"{message} (%p%)")

    def _end_job(self) -> None:
        self._job = None
        self.import_button.setEnabled(may(self.principal, Action.DATA_IMPORT)
                                      and not self.acquisition.running)
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)

    def _acquisition_running(self, running: bool) -> None:
        # One worker: an import would only wait for the recording to end.
        if self._job is None:
            self.import_button.setEnabled(not running and may(self.principal,
                                                              Action.DATA_IMPORT))

    def _acquired(self, outcome) -> None:
        first = outcome.datasets[0].dataset_id if outcome.datasets else None
        self.refresh(select=first)

    def _show_message(self, text: str, style: str) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet(style)


def dataset_row(info: DatasetInfo) -> tuple[str, ...]:
    """The table's texts for one dataset, in DATASET_COLUMNS order."""
    channels = ", ".join(f"{c.name} [{c.unit}]" if c.unit else c.name for c in info.channels)
    return (info.name, info.dataset_id[:ID_PREFIX], str(len(info.recordings)), channels,
            format_duration(info.duration_s), info.created_by)


def format_duration(seconds: float) -> str:
    """``0.5 s``, ``12.3 s``, ``4 min 05 s``, ``2 h 03 min``."""
    if seconds < 60:
        return f"{seconds:.3g} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def _words(text: str) -> list[str]:
    return [w.strip() for w in text.replace(";", ",").split(",") if w.strip()]


def _where(issue: dict) -> str:
    if issue.get("line") is not None:
        return f"line {issue['line']}"
    if issue.get("row") is not None:
        return f"row {issue['row']}"
    return "file"


def _extra(rep: dict) -> str:
    unlisted = sum((rep.get("unlisted") or {}).values())
    notes = "; ".join(rep.get("notes") or [])
    text = f" ({unlisted} more issues counted by reason only)" if unlisted else ""
    return text + (f"; {notes}" if notes else "")
