"""The Controllers page: find controllers, flash approved models, roll back, watch predictions."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import Cancelled, PlantMLError
from app.core.lifecycle import State
from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.services.controllers import endpoint
from app.ui.permissions import may, refusal_text
from app.ui.prediction_plot import PredictionPlot
from app.ui.task_runner import TaskHandle, TaskRunner, describe_error

log = logging.getLogger(__name__)

GOOD_STYLE = "color: #1b5e20; font-weight: bold;"
BAD_STYLE = "color: #b00020; font-weight: bold;"
NOTE_STYLE = "color: #555555;"

#: Colour of the drift line per level.
DRIFT_STYLES = {"ok": "color: white; background-color: #2e7d32; padding: 2px 6px;",
                "warn": "color: black; background-color: #ffb300; padding: 2px 6px;",
                "alarm": "color: white; background-color: #b00020; font-weight: bold; "
                         "padding: 2px 6px;"}

#: Table columns.
COLUMNS = ("endpoint", "hardware id", "state", "active model", "last error")

#: Baud rate of the endpoints made from discovered serial ports.
RTU_BAUD = 115200

#: How often a watched controller is asked for its latest prediction and drift.
WATCH_INTERVAL_MS = 1000

#: Drifting features named next to the drift level.
WORST_SHOWN = 3

KIND_ROLE = Qt.ItemDataRole.UserRole


@dataclass(frozen=True)
class _Row:
    """What the table shows for one endpoint."""

    endpoint: str
    hardware_id: str
    state: str
    model: str
    error: str
    found: bool
    model_detail: str = ""

    def cells(self) -> tuple[str, str, str, str, str]:
        return self.endpoint, self.hardware_id, self.state, self.model, self.error


class ControllersView(QWidget):
    """Endpoints on the left (serial ports found here, TCP endpoints added by hand); on the
    right the scanned controllers, the actions on the selected one, and its live predictions.

    Every service call runs on the task runner; watching polls about once a second and never
    waits on the GUI thread. Buttons a role may not use are greyed out with a tooltip saying
    why (the services check again).
    """

    sig_scanned = Signal(int)
    """A scan finished; carries the number of endpoints where a controller answered."""

    sig_row_updated = Signal(str)
    """A controller's row changed after a flash, rollback, watch or re-read; carries its
    endpoint."""

    sig_flashed = Signal(object)
    """A flash finished (committed or not); carries the service's FlashOutcome."""

    sig_rolled_back = Signal(object)
    """A rollback finished; carries the controller's status read back."""

    sig_watch_updated = Signal(object)
    """A watch poll arrived; carries the service's WatchResult."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.principal = principal
        self.approved_refs: list[str] = []
        self._ports: dict[str, str] = {}  # rtu endpoint -> port description
        self._rows: dict[str, _Row] = {}
        self._scanning = False
        self._job: TaskHandle | None = None
        self._watch_target: str | None = None
        self._watch_in_flight = False
        self._last_inference: int | None = None
        self._shown_once = False

        # ------------------------------------------------------------ left: endpoints
        self.endpoint_list = QListWidget()
        self.endpoint_list.setObjectName("endpoints")
        self.endpoint_list.currentItemChanged.connect(lambda *_a: self._update_buttons())
        self.tcp_edit = QLineEdit()
        self.tcp_edit.setPlaceholderText("tcp:HOST:PORT")
        self.tcp_edit.returnPressed.connect(self._add_clicked)
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Add a controller reached over Modbus TCP")
        self.add_button.clicked.connect(self._add_clicked)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove_clicked)
        self.ports_button = QPushButton("Find ports")
        self.ports_button.setToolTip("List the serial ports of this computer again")
        self.ports_button.clicked.connect(self._ports_clicked)
        left = QGroupBox("Endpoints")
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.endpoint_list, 1)
        add_row = QHBoxLayout()
        add_row.addWidget(self.tcp_edit, 1)
        add_row.addWidget(self.add_button)
        left_layout.addLayout(add_row)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.remove_button)
        list_buttons.addWidget(self.ports_button)
        list_buttons.addStretch(1)
        left_layout.addLayout(list_buttons)

        # ------------------------------------------------------------ right: controllers
        self.scan_button = QPushButton("Scan")
        self.scan_button.clicked.connect(self._scan_clicked)
        self.scan_label = QLabel("not scanned yet")
        self.scan_label.setStyleSheet(NOTE_STYLE)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("controller_table")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.currentCellChanged.connect(lambda *_a: self._update_buttons())

        self.flash_button = QPushButton("Flash...")
        self.flash_button.clicked.connect(self._flash_clicked)
        self.rollback_button = QPushButton("Rollback...")
        self.rollback_button.clicked.connect(self._rollback_clicked)
        self.watch_button = QPushButton("Watch")
        self.watch_button.setCheckable(True)
        self.watch_button.toggled.connect(self._watch_toggled)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_job)

        self.prediction_label = QLabel("")
        self.prediction_label.setTextFormat(Qt.TextFormat.PlainText)
        self.drift_label = QLabel("")
        self.drift_label.setTextFormat(Qt.TextFormat.PlainText)
        self.drift_label.setWordWrap(True)
        self.watch_error_label = QLabel("")
        self.watch_error_label.setWordWrap(True)
        self.watch_error_label.setStyleSheet(BAD_STYLE)
        self.plot = PredictionPlot()
        self.watch_timer = QTimer(self)
        self.watch_timer.setInterval(WATCH_INTERVAL_MS)
        self.watch_timer.timeout.connect(self._poll)

        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        scan_row = QHBoxLayout()
        scan_row.addWidget(self.scan_button)
        scan_row.addWidget(self.scan_label, 1)
        right_layout.addLayout(scan_row)
        right_layout.addWidget(self.table, 1)
        actions = QHBoxLayout()
        for button in self.action_buttons():
            actions.addWidget(button)
        actions.addStretch(1)
        right_layout.addLayout(actions)
        job_row = QHBoxLayout()
        job_row.addWidget(self.progress_bar, 1)
        job_row.addWidget(self.cancel_button)
        right_layout.addLayout(job_row)
        watch_row = QHBoxLayout()
        watch_row.addWidget(self.prediction_label, 1)
        watch_row.addWidget(self.drift_label, 1)
        right_layout.addLayout(watch_row)
        right_layout.addWidget(self.watch_error_label)
        right_layout.addWidget(self.plot, 2)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message_label)
        self._update_buttons()

    # ---------------------------------------------------------------- endpoints

    def action_buttons(self) -> list[QPushButton]:
        """The buttons acting on the selected controller, left to right."""
        return [self.flash_button, self.rollback_button, self.watch_button]

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        # Look for ports and releasable versions on first sight, not at start-up.
        if not self._shown_once:
            self._shown_once = True
            self.refresh_ports()
            self.load_approved()

    def endpoints(self) -> list[str]:
        """Every endpoint listed, serial ports first."""
        return [self.endpoint_list.item(i).text() for i in range(self.endpoint_list.count())]

    def add_endpoint(self, text: str) -> bool:
        """Add ``tcp:HOST:PORT`` (or ``HOST:PORT``, or ``rtu:PORT:BAUD``) to the list; False
        with the reason shown if it is not an endpoint."""
        text = text.strip()
        if text and not text.startswith(("tcp:", "rtu:")):
            text = f"tcp:{text}"
        try:
            endpoint(text)
        except PlantMLError as exc:
            self._show_message(describe_error(exc), BAD_STYLE)
            return False
        if text in self.endpoints():
            self._show_message(f"{text} is already listed", NOTE_STYLE)
            return False
        item = QListWidgetItem(text)
        item.setData(KIND_ROLE, "configured")
        item.setToolTip("added by hand (kept until PlantML closes)")
        self.endpoint_list.addItem(item)
        self._show_message("", NOTE_STYLE)
        self._update_buttons()
        return True

    def _add_clicked(self, *_args: object) -> None:
        if self.add_endpoint(self.tcp_edit.text()):
            self.tcp_edit.clear()

    def _remove_clicked(self, *_args: object) -> None:
        item = self.endpoint_list.currentItem()
        if item is not None and item.data(KIND_ROLE) == "configured":
            self.endpoint_list.takeItem(self.endpoint_list.row(item))
        self._update_buttons()

    def refresh_ports(self) -> None:
        """List this computer's serial ports again (in the background)."""
        self.ports_button.setEnabled(False)
        self.runner.submit(self.services.data_in.serial_ports, on_done=self._ports_listed,
                           on_error=self._ports_failed, cancellable=False)

    def _ports_clicked(self, *_args: object) -> None:
        self.refresh_ports()

    def _ports_listed(self, ports: list[dict[str, str]]) -> None:
        self.ports_button.setEnabled(True)
        self._ports = {f"rtu:{p['device']}:{RTU_BAUD}": p.get("description", "") for p in ports}
        configured = [self.endpoint_list.item(i) for i in range(self.endpoint_list.count())
                      if self.endpoint_list.item(i).data(KIND_ROLE) == "configured"]
        keep = [(item.text(), item.toolTip()) for item in configured]
        current = self.endpoint_list.currentItem()
        selected = current.text() if current is not None else None
        self.endpoint_list.clear()
        for text, description in self._ports.items():
            item = QListWidgetItem(text)
            item.setData(KIND_ROLE, "serial")
            item.setToolTip(description or "serial port")
            self.endpoint_list.addItem(item)
        for text, tip in keep:
            if text in self._ports:
                continue
            item = QListWidgetItem(text)
            item.setData(KIND_ROLE, "configured")
            item.setToolTip(tip)
            self.endpoint_list.addItem(item)
        if selected is not None:
            for i in range(self.endpoint_list.count()):
                if self.endpoint_list.item(i).text() == selected:
                    self.endpoint_list.setCurrentRow(i)
        self._update_buttons()

    def _ports_failed(self, exc: BaseException) -> None:
        self.ports_button.setEnabled(True)
        self._show_message(f"the serial ports could not be listed: {describe_error(exc)}",
                           BAD_STYLE)

    def load_approved(self) -> None:
        """Reload the approved versions a flash may choose from (in the background)."""
        if not (may(self.principal, Action.CONTROLLER_DEPLOY)
                and may(self.principal, Action.MODEL_READ)):
            return
        services, principal = self.services, self.principal
        self.runner.submit(lambda: approved_versions(services, principal),
                           on_done=self._approved_loaded, on_error=self._approved_failed,
                           cancellable=False)

    def _approved_loaded(self, refs: list[str]) -> None:
        self.approved_refs = list(refs)
        self._update_buttons()

    def _approved_failed(self, exc: BaseException) -> None:
        self.approved_refs = []
        self._show_message(f"the approved versions could not be listed: {describe_error(exc)}",
                           BAD_STYLE)
        self._update_buttons()

    # ---------------------------------------------------------------- scanning

    def scan(self) -> None:
        """Read identity and status at every listed endpoint in the background."""
        targets = self.endpoints()
        if self._scanning or not targets or not may(self.principal, Action.CONTROLLER_WATCH):
            return
        scan, principal = self.services.controllers.scan, self.principal
        self._scanning = True
        self.scan_label.setText(f"scanning {len(targets)} endpoint"
                                f"{'s' if len(targets) != 1 else ''}...")
        self.scan_label.setStyleSheet(NOTE_STYLE)
        self.runner.submit(lambda: scan(principal, endpoints=targets),
                           on_done=lambda results: self._scanned(targets, results),
                           on_error=self._scan_failed, cancellable=False)
        self._update_buttons()

    def _scan_clicked(self, *_args: object) -> None:
        self.scan()

    def _scanned(self, targets: list[str], results: list[Any]) -> None:
        self._scanning = False
        selected = self.current_target()
        self._rows = {}
        for text, result in zip(targets, results, strict=True):
            self._rows[text] = _row_of_scan(text, result)
        self._fill_table(selected)
        found = sum(1 for row in self._rows.values() if row.found)
        self.scan_label.setText(f"{found} of {len(targets)} endpoint"
                                f"{'s' if len(targets) != 1 else ''} answered")
        self.scan_label.setStyleSheet(NOTE_STYLE)
        self._update_buttons()
        self.sig_scanned.emit(found)
        self.load_approved()

    def _scan_failed(self, exc: BaseException) -> None:
        self._scanning = False
        self.scan_label.setText(f"scan failed: {describe_error(exc)}")
        self.scan_label.setStyleSheet(BAD_STYLE)
        self._update_buttons()

    def _fill_table(self, selected: str | None) -> None:
        self.table.blockSignals(True)
        try:
            self.table.setRowCount(0)
            for row in self._rows.values():
                index = self.table.rowCount()
                self.table.insertRow(index)
                self._set_cells(index, row)
        finally:
            self.table.blockSignals(False)
        targets = list(self._rows)
        if selected in self._rows:
            self.table.selectRow(targets.index(selected))
        else:
            found = [i for i, row in enumerate(self._rows.values()) if row.found]
            if found:
                self.table.selectRow(found[0])

    def _set_cells(self, index: int, row: _Row) -> None:
        for col, text in enumerate(row.cells()):
            item = QTableWidgetItem(text)
            if col == 3 and row.model_detail:
                item.setToolTip(row.model_detail)
            elif col == 4 and text:
                item.setToolTip(text)
                item.setForeground(QBrush(QColor("#b00020")))
            elif col == 2 and row.state in ("error", "unreachable"):
                item.setForeground(QBrush(QColor("#b00020")))
            self.table.setItem(index, col, item)

    def _update_row(self, target: str, hardware_id: str | None, status: Any) -> None:
        """Show a freshly read status in ``target``'s row."""
        old = self._rows.get(target)
        if old is None:
            return
        row = _row_of_status(target, hardware_id or old.hardware_id, status)
        if row == old:
            return
        self._rows[target] = row
        self._set_cells(list(self._rows).index(target), row)
        self._update_buttons()
        self.sig_row_updated.emit(target)

    def _reread(self, target: str) -> None:
        """Read ``target``'s identity and status again (after a failed flash or rollback)."""
        status, principal = self.services.controllers.status, self.principal
        self.runner.submit(lambda: status(principal, target=target),
                           on_done=lambda pair: self._update_row(target, pair[0].hardware_id,
                                                                 pair[1]),
                           on_error=lambda exc: log.info("%s could not be re-read: %s",
                                                         target, describe_error(exc)),
                           cancellable=False)

    def table_rows(self) -> list[tuple[str, ...]]:
        """The table as text rows: endpoint, hardware id, state, active model, last error."""
        return [tuple(self.table.item(r, c).text() for c in range(self.table.columnCount()))
                for r in range(self.table.rowCount())]

    def row_of(self, target: str) -> tuple[str, ...]:
        """The table row of ``target`` as text."""
        row = self._rows.get(target)
        if row is None:
            raise KeyError(target)
        return row.cells()

    def select(self, target: str) -> bool:
        """Select ``target``'s row; False if it is not in the table."""
        if target not in self._rows:
            return False
        self.table.selectRow(list(self._rows).index(target))
        return True

    def current_target(self) -> str | None:
        """Endpoint of the selected row, or None."""
        index = self.table.currentRow()
        if index < 0 or index >= self.table.rowCount():
            return None
        item = self.table.item(index, 0)
        return item.text() if item is not None else None

    def _selected_found(self) -> str | None:
        target = self.current_target()
        row = self._rows.get(target) if target is not None else None
        return target if row is not None and row.found else None

    # ---------------------------------------------------------------- buttons

    def _update_buttons(self) -> None:
        """Enable each button the role and the selection allow; say why if not."""
        busy = self._job is not None
        target = self._selected_found()
        item = self.endpoint_list.currentItem()
        self.remove_button.setEnabled(item is not None and item.data(KIND_ROLE) == "configured")
        self.remove_button.setToolTip("Remove the selected endpoint you added"
                                      if self.remove_button.isEnabled() else
                                      "Select an endpoint you added (serial ports are found)")

        def on_controller(extra=lambda: None):
            def rule() -> str | None:
                if target is None:
                    return "select a controller that answered the scan"
                return extra()
            return rule

        def deploy_rule() -> str | None:
            if busy:
                return "a flash or rollback is running"
            if not self.approved_refs:
                return "there is no approved model version to deploy"
            return None

        rules = {
            self.scan_button: (
                Action.CONTROLLER_WATCH, "Scanning controllers",
                "Read identity and status at every endpoint in the list",
                lambda: "a scan is running" if self._scanning else
                ("add an endpoint first" if not self.endpoint_list.count() else None)),
            self.flash_button: (
                Action.CONTROLLER_DEPLOY, "Flashing a model",
                "Deploy an approved model version to the selected controller",
                on_controller(deploy_rule)),
            self.rollback_button: (
                Action.CONTROLLER_ROLLBACK, "Rolling back",
                "Make the selected controller return to its previous model",
                on_controller(lambda: "a flash or rollback is running" if busy else None)),
            self.watch_button: (
                Action.CONTROLLER_WATCH, "Watching a controller",
                "Show the selected controller's latest prediction and drift, every second",
                (lambda: None) if self._watch_target is not None else on_controller()),
        }
        for button, (action, what, help_text, rule) in rules.items():
            if not may(self.principal, action):
                button.setEnabled(False)
                button.setToolTip(refusal_text(self.principal, action, what))
                continue
            why = rule()
            button.setEnabled(why is None)
            button.setToolTip(help_text if why is None else f"{help_text}. Not now: {why}")

    # ---------------------------------------------------------------- flash and rollback

    def choose_version(self) -> str | None:
        """Ask which approved version to flash; None if cancelled. Tests replace this."""
        if not self.approved_refs:
            return None
        ref, ok = QInputDialog.getItem(self, "Flash a model",
                                       f"Approved version to flash into {self.current_target()}:",
                                       self.approved_refs, 0, False)
        return str(ref) if ok and ref else None

    def ask_reason(self) -> str | None:
        """Ask why the controller rolls back; None if cancelled. Tests replace this."""
        text, ok = QInputDialog.getMultiLineText(
            self, "Roll back", f"Why does {self.current_target()} return to its previous "
            "model? (recorded in the audit trail)")
        return str(text) if ok else None

    def flash(self) -> None:
        """Flash a chosen approved version into the selected controller, with progress."""
        target = self._selected_found()
        if self._job is not None or target is None:
            return
        ref = self.choose_version()
        if not ref:
            return
        flash, principal = self.services.controllers.flash, self.principal
        self._start_job(f"flashing {ref} into {target}")
        self._job = self.runner.submit(
            lambda progress, cancel: flash(principal, ref=ref, target=target,
                                           progress=progress, cancel=cancel),
            on_done=lambda outcome: self._flashed(target, ref, outcome),
            on_error=lambda exc: self._job_failed(f"flashing {ref}", target, exc),
            on_progress=self._progress)
        self._update_buttons()

    def _flash_clicked(self, *_args: object) -> None:
        self.flash()

    def rollback(self) -> None:
        """Make the selected controller return to its previous model, for a stated reason."""
        target = self._selected_found()
        if self._job is not None or target is None:
            return
        reason = self.ask_reason()
        if reason is None:
            return
        if not reason.strip():
            self._show_message("say why the controller rolls back", BAD_STYLE)
            return
        rollback, principal = self.services.controllers.rollback, self.principal
        self._start_job(f"rolling {target} back")
        self.progress_bar.setRange(0, 0)  # the device reports no steps: a busy bar
        self.cancel_button.setVisible(False)
        self._job = self.runner.submit(
            lambda: rollback(principal, target=target, reason=reason.strip()),
            on_done=lambda status: self._rolled_back(target, status),
            on_error=lambda exc: self._job_failed("rollback", target, exc),
            cancellable=False)
        self._update_buttons()

    def _rollback_clicked(self, *_args: object) -> None:
        self.rollback()

    def cancel_job(self) -> None:
        """Ask the running flash to stop (the controller keeps its old model)."""
        if self._job is not None:
            self._job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_bar.setFormat("cancelling...")

    @property
    def job_running(self) -> bool:
        """True while a flash or rollback runs."""
        return self._job is not None

    def _start_job(self, what: str) -> None:
        self.progress_bar.setRange(0, 1000)
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

    def _end_job(self, keep_bar: bool = False) -> None:
        self._job = None
        self.cancel_button.setVisible(False)
        if self.progress_bar.maximum() == 0:
            self.progress_bar.setRange(0, 1000)
        self.progress_bar.setVisible(keep_bar)
        self._update_buttons()

    def _flashed(self, target: str, ref: str, outcome: Any) -> None:
        self.progress_bar.setValue(self.progress_bar.maximum())
        self._update_row(target, None, outcome.status)
        if outcome.ok:
            self.progress_bar.setFormat("flashed and committed (%p%)")
            self._show_message(f"{target} runs {ref} now (package sha256 "
                               f"{outcome.package_sha256[:16]}, {outcome.duration_s:.1f} s)",
                               GOOD_STYLE)
        else:
            self.progress_bar.setFormat("not committed (%p%)")
            reason = outcome.status.reason or "the controller did not commit it"
            self._show_message(f"{ref} did not take on {target}: {reason}; the controller "
                               "keeps its previous model", BAD_STYLE)
        self._end_job(keep_bar=True)
        self.sig_flashed.emit(outcome)

    def _rolled_back(self, target: str, status: Any) -> None:
        self._update_row(target, None, status)
        self._end_job()
        row = self._rows.get(target)
        now = row.model if row is not None else "its previous model"
        self._show_message(f"{target} rolled back; it runs {now}", GOOD_STYLE)
        self.sig_rolled_back.emit(status)

    def _job_failed(self, what: str, target: str, exc: BaseException) -> None:
        self._end_job()
        if isinstance(exc, Cancelled):
            self._show_message(f"{what} cancelled; {target} keeps its model", NOTE_STYLE)
        else:
            self._show_message(f"{what} failed: {describe_error(exc)}", BAD_STYLE)
        # What the device says now (its last error) belongs in the table.
        self._reread(target)

    # ---------------------------------------------------------------- watching

    @property
    def watching(self) -> str | None:
        """The endpoint being watched, or None."""
        return self._watch_target

    def start_watch(self) -> None:
        """Poll the selected controller about once a second and plot its predictions."""
        target = self._selected_found()
        if target is None or not may(self.principal, Action.CONTROLLER_WATCH):
            self._set_watch_checked(False)
            return
        self._watch_target = target
        self._last_inference = None
        self.plot.clear()
        self.plot.set_title(f"latest prediction of {target}")
        self.plot.start()
        self.prediction_label.setText(f"watching {target}...")
        self.drift_label.setText("")
        self.drift_label.setStyleSheet("")
        self.watch_error_label.setText("")
        self._set_watch_checked(True)
        self.watch_timer.start()
        self._poll()
        self._update_buttons()

    def stop_watch(self) -> None:
        """Stop polling; the plot keeps what it shows."""
        self.watch_timer.stop()
        self._watch_target = None
        if self.plot.running:
            self.plot.stop()
        self._set_watch_checked(False)
        self._update_buttons()

    def _set_watch_checked(self, on: bool) -> None:
        self.watch_button.blockSignals(True)
        self.watch_button.setChecked(on)
        self.watch_button.setText("Stop watching" if on else "Watch")
        self.watch_button.blockSignals(False)

    def _watch_toggled(self, on: bool) -> None:
        if on:
            self.start_watch()
        else:
            self.stop_watch()

    def _poll(self) -> None:
        target = self._watch_target
        if target is None or self._watch_in_flight:
            return  # one poll at a time: a slow link must not pile requests up
        watch, principal = self.services.controllers.watch, self.principal
        self._watch_in_flight = True
        try:
            self.runner.submit(lambda: watch(principal, target=target),
                               on_done=lambda result: self._watched(target, result),
                               on_error=lambda exc: self._watch_failed(target, exc),
                               cancellable=False)
        except RuntimeError:  # the runner was shut down: the window is closing
            self._watch_in_flight = False
            self.stop_watch()

    def _watched(self, target: str, result: Any) -> None:
        self._watch_in_flight = False
        if target != self._watch_target:
            return  # stopped (or another controller watched) meanwhile
        self.watch_error_label.setText("")
        live = result.live
        prediction = float(live.prediction)
        if not live.inference_count or not math.isfinite(prediction):
            self.prediction_label.setText(f"{result.model}: no prediction yet")
        else:
            if live.inference_count != self._last_inference:
                self._last_inference = live.inference_count
                self.plot.add(time.monotonic(), prediction, result.label)
            self.prediction_label.setText(f"{result.model}: {result.label} "
                                          f"(inference {live.inference_count})")
        self._show_drift(result.drift)
        self._update_row(target, None, result.status)
        self.sig_watch_updated.emit(result)

    def _show_drift(self, drift: Any) -> None:
        if drift is None:
            self.drift_label.setText("drift: not enough windows yet")
            self.drift_label.setStyleSheet(NOTE_STYLE)
            self.drift_label.setToolTip("")
            return
        level = drift.level
        worst = drift.at_least("warn")[:WORST_SHOWN]
        text = f"drift: {level}"
        if worst:
            text += " - " + ", ".join(f"{f.name} (PSI {f.psi:.2f})" for f in worst)
        self.drift_label.setText(text)
        self.drift_label.setStyleSheet(DRIFT_STYLES.get(level, NOTE_STYLE))
        self.drift_label.setToolTip("\n".join(
            f"{f.name}: {f.level}, PSI {f.psi:.3f}, KS {f.ks:.3f}"
            for f in drift.at_least("ok")[:10]))

    def drift_level(self) -> str:
        """ok, warn or alarm as shown now ('' before a drift report arrived)."""
        text = self.drift_label.text()
        if not text.startswith("drift: "):
            return ""
        level = text.removeprefix("drift: ").split(" ", 1)[0]
        return level if level in DRIFT_STYLES else ""

    def _watch_failed(self, target: str, exc: BaseException) -> None:
        self._watch_in_flight = False
        if target != self._watch_target:
            return
        # Keep polling: a controller that was busy or had no model may answer next time.
        self.watch_error_label.setText(f"watch: {describe_error(exc)}")

    def _show_message(self, text: str, style: str) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet(style)


def approved_versions(services: Services, principal: Principal) -> list[str]:
    """Refs of every approved version, line by line, newest first (runs on the worker)."""
    refs: list[str] = []
    for line in services.registry.lines(principal):
        refs.extend(v.ref for v in services.registry.versions(principal, line=line.name)
                    if v.state == State.APPROVED.value)
    return refs


def _row_of_scan(text: str, result: Any) -> _Row:
    if result.identity is None or result.status is None:
        return _Row(text, "", "unreachable", "", result.error or "no answer", found=False)
    return _row_of_status(text, result.identity.hardware_id, result.status)


def _row_of_status(text: str, hardware_id: str, status: Any) -> _Row:
    active = status.active
    model = f"{active.name}:v{active.version}" if active is not None else "no model"
    return _Row(text, hardware_id, status.state.name.lower().replace("_", " "), model,
                status.reason, found=True, model_detail=str(active) if active else "")
