"""The Controllers page: find controllers, flash approved models, roll back, watch predictions."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.services import Services
from app.ui.controller_rows import ControllerRow
from app.ui.controller_rules import controller_rules
from app.ui.dialogs import flash_prompts
from app.ui.look import icon
from app.ui.permissions import apply_rules
from app.ui.styles import BAD_STYLE
from app.ui.task_runner import TaskRunner
from app.ui.widgets.approved_versions import ApprovedVersions
from app.ui.widgets.capture_panel import CapturePanel
from app.ui.widgets.controller_scan import ControllerScan
from app.ui.widgets.controller_table import ControllerTable
from app.ui.widgets.controller_watch import ControllerWatch
from app.ui.widgets.endpoint_panel import EndpointPanel
from app.ui.widgets.flash_jobs import FlashJobs
from app.ui.widgets.fleet_panel import FleetPanel
from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.latest_explainer import LatestExplainer
from app.ui.widgets.page import Page


class ControllersView(Page):
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

    sig_watch_lost = Signal(str)
    """The watched controller stopped answering; carries its endpoint."""

    sig_open_version = Signal(str)
    """The user wants a version (a challenger just trained) on the Models page; its ref."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, parent)
        self._shown_once = False

        # ------------------------------------------------------------ left: endpoints
        self.endpoint_panel = EndpointPanel(runner, services.data_in.serial_ports)
        self.endpoint_panel.sig_changed.connect(self._update_buttons)
        self.tcp_edit = self.endpoint_panel.tcp_edit
        self.add_button = self.endpoint_panel.add_button

        # ------------------------------------------------------------ right: controllers
        self.scanner = ControllerScan(services, runner, principal, self.endpoints, self)
        self.scanner.sig_changed.connect(self._update_buttons)
        self.scanner.sig_scanned.connect(self._scanned)
        self.scan_button = self.scanner.button
        self.scan_label = self.scanner.label
        self.table = ControllerTable()
        self.table.currentCellChanged.connect(lambda *_a: self._update_buttons())

        self.flash_button = QPushButton(icon("flash"), "Flash...")
        self.flash_button.clicked.connect(lambda *_a: self.flash())
        self.rollback_button = QPushButton(icon("rollback"), "Rollback...")
        self.rollback_button.clicked.connect(lambda *_a: self.rollback())
        self.jobs = JobControls(runner)
        self.jobs.sig_busy_changed.connect(lambda _busy: self._update_buttons())
        self.approved = ApprovedVersions(services, runner, principal, self.jobs.show_message,
                                         self)
        self.approved.sig_changed.connect(self._update_buttons)
        self.flash_jobs = FlashJobs(services, principal, self.jobs, self.table,
                                    self._update_row, self)
        self.flash_jobs.sig_flashed.connect(self.sig_flashed)
        self.flash_jobs.sig_rolled_back.connect(self.sig_rolled_back)
        self.explainer = LatestExplainer(services, runner, principal, self.table.selected_found,
                                         self.jobs.show_message, self)
        self.progress_bar = self.jobs.progress_bar
        self.cancel_button = self.jobs.cancel_button
        self.message_label = self.jobs.message_label
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.endpoint_panel.sig_message.connect(self.jobs.show_message)

        self.watcher = ControllerWatch(services, runner, principal, self.table, self)
        self.watcher.sig_changed.connect(self._update_buttons)
        self.watcher.sig_updated.connect(self._watched)
        self.watch, self.shadow_panel = self.watcher.panel, self.watcher.shadow
        self.watch_button = self.watcher.button
        self.prediction_label = self.watch.prediction_label
        self.drift_label = self.watch.drift_label
        self.plot = self.watch.plot
        self.watch_timer = self.watch.timer
        # Capture and feedback (issue 12): a drift alarm's own capture shows up in it too.
        self.capture_panel = CapturePanel(services, runner, principal, self.table.selected_found)
        self.watch.sig_updated.connect(self.capture_panel.show_captured)
        self.capture_panel.challenger.sig_open_version.connect(self.sig_open_version)
        self.watcher.sig_row_changed.connect(self._row_changed)
        self.watcher.sig_lost.connect(self.sig_watch_lost)

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
        actions.addWidget(self.explainer.button)
        actions.addStretch(1)
        right_layout.addLayout(actions)
        right_layout.addWidget(self.jobs)
        right_layout.addWidget(self.shadow_panel)
        right_layout.addWidget(self.watch, 2)
        right_layout.addWidget(self.capture_panel, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.endpoint_panel)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        # The Fleet tab: the inventory and roll-outs to a group (issue 11.3).
        self.fleet = FleetPanel(services, runner, principal, lambda: self.approved_refs)
        self.tabs = QTabWidget()
        devices = QWidget()
        devices_layout = QVBoxLayout(devices)
        devices_layout.setContentsMargins(0, 0, 0, 0)
        devices_layout.addWidget(splitter, 1)
        devices_layout.addWidget(self.message_label)
        self.tabs.addTab(devices, "Scan and flash")
        self.tabs.addTab(self.fleet, "Fleet")
        self.tabs.currentChanged.connect(self._tab_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs, 1)
        self._update_buttons()

    def show_fleet(self) -> None:
        """Bring the Fleet tab to the front (it loads the inventory)."""
        self.tabs.setCurrentWidget(self.fleet)

    def _tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.fleet:
            self.fleet.reload()
            self.load_approved()

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
        return self.endpoint_panel.endpoints()

    def add_endpoint(self, text: str) -> bool:
        """Add ``tcp:HOST:PORT`` (or ``HOST:PORT``, or ``rtu:PORT:BAUD``; ``#unit=N`` after any
        of them) to the list; False with the reason shown if it is not an endpoint."""
        return self.endpoint_panel.add_endpoint(text)

    def refresh_ports(self) -> None:
        """List this computer's serial ports again (in the background)."""
        self.endpoint_panel.refresh_ports()

    @property
    def approved_refs(self) -> list[str]:
        """The approved versions a flash may choose from, newest first."""
        return self.approved.refs

    @property
    def approved_for(self) -> dict[str, tuple[str, ...]]:
        """The hardware ids each approved version was released for, by ref."""
        return self.approved.hardware_ids

    def load_approved(self) -> None:
        """Reload the approved versions a flash may choose from (in the background)."""
        self.approved.load()

    # ---------------------------------------------------------------- scanning

    def scan(self) -> None:
        """Read identity and status at every listed endpoint in the background."""
        self.scanner.scan()

    def _scanned(self, rows: dict[str, ControllerRow]) -> None:
        self.table.fill(rows, self.current_target())
        self._update_buttons()
        self.sig_scanned.emit(sum(1 for row in rows.values() if row.found))
        self.load_approved()

    def _update_row(self, target: str, hardware_id: str | None, status: Any) -> None:
        """Show a freshly read status in ``target``'s row."""
        if self.table.show_status(target, hardware_id, status):
            self._row_changed(target)

    def _row_changed(self, target: str) -> None:
        self._update_buttons()
        self.sig_row_updated.emit(target)

    def table_rows(self) -> list[tuple[str, ...]]:
        """The table as text rows: endpoint, hardware id, state, active model, last error."""
        return self.table.text_rows()

    def row_of(self, target: str) -> tuple[str, ...]:
        """The table row of ``target`` as text."""
        row = self.table.rows.get(target)
        if row is None:
            raise KeyError(target)
        return row.cells()

    def select(self, target: str) -> bool:
        """Select ``target``'s row; False if it is not in the table."""
        return self.table.select(target)

    def current_target(self) -> str | None:
        """Endpoint of the selected row, or None."""
        return self.table.current_target()

    # ---------------------------------------------------------------- buttons

    def _update_buttons(self) -> None:
        """Enable each button the role and the selection allow; say why if not."""
        target = self.table.selected_found()
        row = self.table.rows.get(target) if target is not None else None
        rules = controller_rules(busy=self.jobs.running, target=target,
                                 has_approved=bool(self.approved_refs),
                                 scanning=self.scanner.running,
                                 has_endpoints=bool(self.endpoints()),
                                 watching=self.watch.target is not None,
                                 has_previous=row is not None and row.can_roll_back)
        apply_rules(self.principal, {getattr(self, f"{name}_button"): rule
                                     for name, rule in rules.items()})
        self.capture_panel.update_buttons()
        self.explainer.update_button(target)

    # ---------------------------------------------------------------- flash and rollback

    def versions_for(self, target: str) -> list[str]:
        """The approved versions released for ``target``'s hardware id, newest first."""
        return self.approved.for_hardware(self.row_of(target)[1])

    def choose_version(self) -> str | None:
        """Ask which approved version to flash; None if cancelled. Tests replace this."""
        target = self.current_target() or ""
        choices = self.versions_for(target)
        if not choices:
            self.jobs.show_message(f"no approved version was released for the hardware id of "
                                   f"{target} ({self.row_of(target)[1]})", BAD_STYLE)
            return None
        return flash_prompts.choose_version(self, target, choices)

    def confirm_flash(self, target: str, running: str, ref: str) -> str | None:
        """Say that ``ref`` replaces ``running`` on ``target`` and ask for the password again;
        None if cancelled. Tests replace this."""
        return flash_prompts.confirm_flash(self, target, running, ref)

    def ask_reason(self) -> str | None:
        """Ask why the controller rolls back; None if cancelled. Tests replace this."""
        return flash_prompts.ask_rollback_reason(self, self.current_target())

    def flash(self) -> None:
        """Flash a chosen approved version into the selected controller, with progress."""
        target = self.table.selected_found()
        if self.jobs.running or target is None:
            return
        ref = self.choose_version()
        if not ref:
            return
        password = self.confirm_flash(target, self.row_of(target)[3], ref)
        if password is None:
            return
        self.flash_jobs.flash(target, ref, password)

    def rollback(self) -> None:
        """Make the selected controller return to its previous model, for a stated reason."""
        target = self.table.selected_found()
        if self.jobs.running or target is None:
            return
        reason = self.ask_reason()
        if reason is None:
            return
        if not reason.strip():
            self.jobs.show_message("say why the controller rolls back", BAD_STYLE)
            return
        self.flash_jobs.rollback(target, reason.strip())

    def cancel_job(self) -> None:
        """Ask the running flash to stop (the controller keeps its old model)."""
        self.jobs.cancel()

    @property
    def job_running(self) -> bool:
        """True while a flash or rollback runs."""
        return self.jobs.running

    # ---------------------------------------------------------------- watching

    @property
    def watching(self) -> str | None:
        """The endpoint being watched, or None."""
        return self.watch.target

    def start_watch(self) -> None:
        """Poll the selected controller about once a second and plot its predictions."""
        self.watcher.start()

    def stop_background(self) -> None:
        """Closing: stop watching, so no poll is started while the window waits for jobs."""
        if self.watch.target is not None:
            self.stop_watch()

    def stop_watch(self) -> None:
        """Stop polling; the plot keeps what it shows."""
        self.watcher.stop()

    def _watched(self, target: str, result: Any) -> None:
        self._update_row(target, None, result.status)
        self.sig_watch_updated.emit(result)

    def drift_level(self) -> str:
        """ok, warn or alarm as shown now ('' before a drift report arrived)."""
        return self.watch.drift_level()
