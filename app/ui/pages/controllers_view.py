"""The Controllers page: find controllers, flash approved models, roll back, watch predictions."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.ui.controller_rows import (
    approved_versions,
    endpoints_text,
    is_link_failure,
    row_lost,
    row_of_scan,
    row_of_status,
)
from app.ui.controller_rules import controller_rules
from app.ui.look import icon
from app.ui.permissions import apply_rules, may, refusal_text
from app.ui.styles import BAD_STYLE, GOOD_STYLE, NOTE_STYLE
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets.capture_panel import CapturePanel
from app.ui.widgets.controller_table import ControllerTable
from app.ui.widgets.endpoint_panel import EndpointPanel
from app.ui.widgets.fleet_panel import FleetPanel
from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.latest_explainer import LatestExplainer
from app.ui.widgets.page import Page
from app.ui.widgets.shadow_panel import ShadowPanel
from app.ui.widgets.watch_panel import WatchPanel

log = logging.getLogger(__name__)


class _WatchFailures(QObject):
    """Carries a failed watch poll from the worker to the page (a queued signal: the
    worker touches no widget)."""

    sig_failed = Signal(str, object)


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
        self.approved_refs: list[str] = []
        self.approved_for: dict[str, tuple[str, ...]] = {}  # ref -> its hardware ids
        self._scanning = False
        self._shown_once = False

        # ------------------------------------------------------------ left: endpoints
        self.endpoint_panel = EndpointPanel(runner, services.data_in.serial_ports)
        self.endpoint_panel.sig_changed.connect(self._update_buttons)
        self.tcp_edit = self.endpoint_panel.tcp_edit
        self.add_button = self.endpoint_panel.add_button

        # ------------------------------------------------------------ right: controllers
        self.scan_button = QPushButton(icon("scan"), "Scan")
        self.scan_button.clicked.connect(self._scan_clicked)
        self.scan_label = QLabel("not scanned yet")
        self.scan_label.setStyleSheet(NOTE_STYLE)
        self.table = ControllerTable()
        self.table.currentCellChanged.connect(lambda *_a: self._update_buttons())

        self.flash_button = QPushButton(icon("flash"), "Flash...")
        self.flash_button.clicked.connect(self._flash_clicked)
        self.rollback_button = QPushButton(icon("rollback"), "Rollback...")
        self.rollback_button.clicked.connect(self._rollback_clicked)
        self.watch_button = QPushButton(icon("watch"), "Watch")
        self.watch_button.setCheckable(True)
        self.watch_button.toggled.connect(self._watch_toggled)
        self.jobs = JobControls(runner)
        self.jobs.sig_busy_changed.connect(lambda _busy: self._update_buttons())
        self.explainer = LatestExplainer(services, runner, principal, self.table.selected_found,
                                         self.jobs.show_message, self)
        self.progress_bar = self.jobs.progress_bar
        self.cancel_button = self.jobs.cancel_button
        self.message_label = self.jobs.message_label
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.endpoint_panel.sig_message.connect(self.jobs.show_message)

        self.watch = WatchPanel(runner)
        self.watch.sig_updated.connect(self._watched)
        self.watch.sig_stopped.connect(self.stop_watch)
        self.prediction_label = self.watch.prediction_label
        self.drift_label = self.watch.drift_label
        self.plot = self.watch.plot
        self.watch_timer = self.watch.timer
        # A model in shadow on the watched controller: its agreement and latency.
        shadow_status = services.controllers.shadow_status
        self.shadow_panel = ShadowPanel(
            runner, lambda target: shadow_status(principal, target=target))
        self.watch.sig_updated.connect(self.shadow_panel.refresh)
        self._watch_failures = _WatchFailures(self)
        # Capture and feedback (issue 12): a drift alarm's own capture shows up in it too.
        self.capture_panel = CapturePanel(services, runner, principal, self.table.selected_found)
        self.watch.sig_updated.connect(self.capture_panel.show_captured)
        self.capture_panel.challenger.sig_open_version.connect(self.sig_open_version)
        self._watch_failures.sig_failed.connect(self._watch_failed)

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

    def load_approved(self) -> None:
        """Reload the approved versions a flash may choose from (in the background)."""
        if not (may(self.principal, Action.CONTROLLER_DEPLOY)
                and may(self.principal, Action.MODEL_READ)):
            return
        services, principal = self.services, self.principal
        self.runner.submit(lambda: approved_versions(services, principal),
                           on_done=self._approved_loaded, on_error=self._approved_failed,
                           cancellable=False, writes=False)

    def _approved_loaded(self, approved: list[tuple[str, tuple[str, ...]]]) -> None:
        self.approved_refs = [ref for ref, _ids in approved]
        self.approved_for = dict(approved)
        self._update_buttons()

    def _approved_failed(self, exc: BaseException) -> None:
        self.approved_refs = []
        self.approved_for = {}
        self.jobs.show_message("the approved versions could not be listed: "
                               f"{describe_error(exc)}", BAD_STYLE)
        self._update_buttons()

    # ---------------------------------------------------------------- scanning

    def scan(self) -> None:
        """Read identity and status at every listed endpoint in the background."""
        targets = self.endpoints()
        if self._scanning or not targets or not may(self.principal, Action.CONTROLLER_WATCH):
            return
        scan, principal = self.services.controllers.scan, self.principal
        self._scanning = True
        self.scan_label.setText(f"scanning {endpoints_text(len(targets))}...")
        self.scan_label.setStyleSheet(NOTE_STYLE)
        self.runner.submit(lambda: scan(principal, endpoints=targets),
                           on_done=lambda results: self._scanned(targets, results),
                           on_error=self._scan_failed, cancellable=False, writes=False)
        self._update_buttons()

    def _scan_clicked(self, *_args: object) -> None:
        self.scan()

    def _scanned(self, targets: list[str], results: list[Any]) -> None:
        self._scanning = False
        rows = {text: row_of_scan(text, result)
                for text, result in zip(targets, results, strict=True)}
        self.table.fill(rows, self.current_target())
        found = sum(1 for row in rows.values() if row.found)
        self.scan_label.setText(f"{found} of {endpoints_text(len(targets))} answered")
        self.scan_label.setStyleSheet(NOTE_STYLE)
        self._update_buttons()
        self.sig_scanned.emit(found)
        self.load_approved()

    def _scan_failed(self, exc: BaseException) -> None:
        self._scanning = False
        self.scan_label.setText(f"scan failed: {describe_error(exc)}")
        self.scan_label.setStyleSheet(BAD_STYLE)
        self._update_buttons()

    def _update_row(self, target: str, hardware_id: str | None, status: Any) -> None:
        """Show a freshly read status in ``target``'s row."""
        old = self.table.rows.get(target)
        if old is None:
            return
        if self.table.replace(row_of_status(target, hardware_id or old.hardware_id, status)):
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
                           cancellable=False, writes=False)

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
                                 scanning=self._scanning, has_endpoints=bool(self.endpoints()),
                                 watching=self.watch.target is not None,
                                 has_previous=row is not None and row.can_roll_back)
        apply_rules(self.principal, {getattr(self, f"{name}_button"): rule
                                     for name, rule in rules.items()})
        self.capture_panel.update_buttons()
        missing = next((a for a in (Action.CONTROLLER_WATCH, Action.MODEL_READ)
                        if not may(self.principal, a)), None)
        self.explainer.button.setEnabled(missing is None and
                                         self.table.selected_found() is not None)
        self.explainer.button.setToolTip("" if missing is None else refusal_text(
            self.principal, missing, "Explaining a prediction"))

    # ---------------------------------------------------------------- flash and rollback

    def versions_for(self, target: str) -> list[str]:
        """The approved versions released for ``target``'s hardware id, newest first."""
        hardware_id = self.row_of(target)[1]
        return [ref for ref in self.approved_refs if hardware_id in self.approved_for.get(ref, ())]

    def choose_version(self) -> str | None:
        """Ask which approved version to flash; None if cancelled. Tests replace this."""
        target = self.current_target() or ""
        choices = self.versions_for(target)
        if not choices:
            self.jobs.show_message(f"no approved version was released for the hardware id of "
                                   f"{target} ({self.row_of(target)[1]})", BAD_STYLE)
            return None
        ref, ok = QInputDialog.getItem(self, "Flash a model",
                                       f"Approved version to flash into {target}:",
                                       choices, 0, False)
        return str(ref) if ok and ref else None

    def confirm_flash(self, target: str, running: str, ref: str) -> str | None:
        """Say that ``ref`` replaces ``running`` on ``target`` and ask for the password again;
        None if cancelled. Tests replace this."""
        text, ok = QInputDialog.getText(
            self, "Replace the running model",
            f"{ref} replaces {running} on {target}: the controller runs the new model once "
            "it is verified and its self-test passes.\n\nYour password, to confirm:",
            QLineEdit.EchoMode.Password)
        return str(text) if ok and text else None

    def ask_reason(self) -> str | None:
        """Ask why the controller rolls back; None if cancelled. Tests replace this."""
        text, ok = QInputDialog.getMultiLineText(
            self, "Roll back", f"Why does {self.current_target()} return to its previous "
            "model? (recorded in the audit trail)")
        return str(text) if ok else None

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
        flash, principal = self.services.controllers.flash, self.principal
        reauthenticate = self.services.auth.reauthenticate

        def run(progress, cancel):
            reauthenticate(principal, password=password, what=f"the flash of {ref}")
            return flash(principal, ref=ref, target=target, progress=progress, cancel=cancel)

        # What the device says after a failure (its last error) belongs in the table.
        self.jobs.run(
            run,
            what=f"flashing {ref} into {target}", label=f"flashing {ref}",
            cancelled=f"flashing {ref} cancelled; {target} keeps its model",
            on_done=lambda outcome: self._flashed(target, ref, outcome),
            after_error=lambda: self._reread(target), keep_bar=True)

    def _flash_clicked(self, *_args: object) -> None:
        self.flash()

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
        rollback, principal = self.services.controllers.rollback, self.principal
        # The device reports no steps: a busy bar, and no Cancel.
        self.jobs.run(
            lambda: rollback(principal, target=target, reason=reason.strip()),
            what=f"rolling {target} back", label="rollback",
            cancelled=f"rollback cancelled; {target} keeps its model",
            on_done=lambda status: self._rolled_back(target, status),
            after_error=lambda: self._reread(target), cancellable=False)

    def _rollback_clicked(self, *_args: object) -> None:
        self.rollback()

    def cancel_job(self) -> None:
        """Ask the running flash to stop (the controller keeps its old model)."""
        self.jobs.cancel()

    @property
    def job_running(self) -> bool:
        """True while a flash or rollback runs."""
        return self.jobs.running

    def _flashed(self, target: str, ref: str, outcome: Any) -> None:
        self._update_row(target, None, outcome.status)
        if outcome.ok:
            self.jobs.complete("flashed and committed")
            self.jobs.show_message(f"{target} runs {ref} now (package sha256 "
                                   f"{outcome.package_sha256[:16]}, "
                                   f"{outcome.duration_s:.1f} s)", GOOD_STYLE)
        else:
            self.jobs.complete("not committed")
            reason = outcome.status.sentence or "the controller did not commit it"
            self.jobs.show_message(f"{ref} did not take on {target}: {reason}; the "
                                   "controller keeps its previous model", BAD_STYLE)
        self.sig_flashed.emit(outcome)

    def _rolled_back(self, target: str, status: Any) -> None:
        self._update_row(target, None, status)
        row = self.table.rows.get(target)
        now = row.model if row is not None else "its previous model"
        self.jobs.show_message(f"{target} rolled back; it runs {now}", GOOD_STYLE)
        self.sig_rolled_back.emit(status)

    # ---------------------------------------------------------------- watching

    @property
    def watching(self) -> str | None:
        """The endpoint being watched, or None."""
        return self.watch.target

    def start_watch(self) -> None:
        """Poll the selected controller about once a second and plot its predictions."""
        target = self.table.selected_found()
        if target is None or not may(self.principal, Action.CONTROLLER_WATCH):
            self._set_watch_checked(False)
            return
        watch, principal = self.services.controllers.watch, self.principal
        failures = self._watch_failures

        def poll():
            try:
                return watch(principal, target=target)
            except Exception as exc:
                # Queued to the GUI thread; a page already closed has no one to tell.
                with contextlib.suppress(RuntimeError):
                    failures.sig_failed.emit(target, exc)
                raise

        self._set_watch_checked(True)
        self.watch.start(target, poll)
        self._update_buttons()

    def stop_background(self) -> None:
        """Closing: stop watching, so no poll is started while the window waits for jobs."""
        if self.watch.target is not None:
            self.stop_watch()

    def stop_watch(self) -> None:
        """Stop polling; the plot keeps what it shows."""
        self.watch.stop()
        self.shadow_panel.clear()
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

    def _watched(self, target: str, result: Any) -> None:
        self._update_row(target, None, result.status)
        self.sig_watch_updated.emit(result)

    def _watch_failed(self, target: str, exc: BaseException) -> None:
        """A poll of the watched controller failed: once it does not answer, its row stops
        saying "active" and its last prediction is no longer shown as current."""
        if target != self.watch.target or not is_link_failure(exc):
            return
        reason = describe_error(exc)
        row = self.table.rows.get(target)
        if row is not None and self.table.replace(row_lost(row, reason)):
            self._update_buttons()
            self.sig_row_updated.emit(target)
        self.prediction_label.setText(f"{target} does not answer: no current prediction "
                                      "(the plot keeps the earlier ones)")
        self.prediction_label.setStyleSheet(BAD_STYLE)
        self.watch.mark_lost()
        self.sig_watch_lost.emit(target)

    def drift_level(self) -> str:
        """ok, warn or alarm as shown now ('' before a drift report arrived)."""
        return self.watch.drift_level()
