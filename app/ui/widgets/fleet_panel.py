"""The Controllers page's Fleet tab: the inventory with each controller's current model,
and roll-outs to a group (start, status, resume) run on the task runner with progress and
Cancel."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.fleet import DONE, RUNNING, FleetController, Rollout
from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.ui.permissions import ButtonRule, apply_rules
from app.ui.styles import BAD_STYLE, GOOD_STYLE, NOTE_STYLE
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.table_text import table_rows

INVENTORY_COLUMNS = ("Name", "Group", "Endpoint", "Hardware id", "Line", "Location",
                     "Current model")
ROLLOUT_COLUMNS = ("Roll-out", "Version", "Group", "State", "Done", "Changed", "Reason")


def _table(columns: tuple[str, ...]) -> QTableWidget:
    table = QTableWidget(0, len(columns))
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setStretchLastSection(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


def _fill(table: QTableWidget, rows: list[tuple[str, ...]]) -> None:
    table.setRowCount(0)
    for values in rows:
        r = table.rowCount()
        table.insertRow(r)
        for c, value in enumerate(values):
            table.setItem(r, c, QTableWidgetItem(value))


class ControllerDialog(QDialog):
    """Name, endpoint, hardware id, line, location and group of a new controller."""

    def __init__(self, groups: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add a controller to the inventory")
        self.name = QLineEdit()
        self.endpoint = QLineEdit()
        self.endpoint.setPlaceholderText("tcp:HOST:PORT or rtu:SERIAL_PORT:BAUD[#unit=N]")
        self.hardware_id = QLineEdit()
        self.line = QLineEdit()
        self.location = QLineEdit()
        self.group = QComboBox()
        self.group.setEditable(True)
        self.group.addItems(groups)
        form = QFormLayout(self)
        for label, widget in (("Name", self.name), ("Endpoint", self.endpoint),
                              ("Hardware id", self.hardware_id), ("Line", self.line),
                              ("Location", self.location), ("Group", self.group)):
            form.addRow(label, widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def values(self) -> dict[str, str]:
        return {"name": self.name.text(), "endpoint": self.endpoint.text(),
                "hardware_id": self.hardware_id.text(), "line": self.line.text(),
                "location": self.location.text(), "group": self.group.currentText()}


class RolloutDialog(QDialog):
    """Version, group, canary, batch size, parallel flashes and observation time."""

    def __init__(self, refs: list[str], groups: dict[str, list[str]],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Roll out to a group")
        self._groups = groups
        self.ref = QComboBox()
        self.ref.addItems(refs)
        self.group = QComboBox()
        self.group.addItems(sorted(groups))
        self.canary = QComboBox()
        self.group.currentTextChanged.connect(self._group_changed)
        self.batch = QSpinBox()
        self.batch.setRange(1, 1000)
        self.batch.setValue(5)
        self.parallel = QSpinBox()
        self.parallel.setRange(1, 32)
        self.parallel.setValue(4)
        self.observe = QDoubleSpinBox()
        self.observe.setRange(0, 24 * 3600)
        self.observe.setValue(60)
        self.observe.setSuffix(" s")
        form = QFormLayout(self)
        for label, widget in (("Approved version", self.ref), ("Group", self.group),
                              ("Canary", self.canary), ("Batch size", self.batch),
                              ("TCP flashes at once", self.parallel),
                              ("Watch each batch for", self.observe)):
            form.addRow(label, widget)
        form.addRow(QLabel("RTU controllers are flashed one at a time per serial port; the "
                           "first failure halts the roll-out."))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._group_changed(self.group.currentText())

    def _group_changed(self, group: str) -> None:
        self.canary.clear()
        self.canary.addItems(self._groups.get(group, []))

    def values(self) -> dict[str, Any]:
        return {"ref": self.ref.currentText(), "group": self.group.currentText(),
                "canary": self.canary.currentText() or None, "batch_size": self.batch.value(),
                "parallel": self.parallel.value(), "observe_s": self.observe.value()}


class FleetPanel(QWidget):
    """Inventory above, roll-outs below; every service call runs on the task runner."""

    sig_loaded = Signal()
    """The inventory and the roll-outs were (re)loaded."""

    sig_rollout_ended = Signal(object)
    """A roll-out run here ended (done, halted or stopped); carries the Rollout."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 approved: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.principal = services, runner, principal
        #: Returns the approved versions a roll-out may choose from (the page's list).
        self.approved = approved
        self.controllers: list[FleetController] = []
        self.rollouts: list[Rollout] = []
        self.inventory = _table(INVENTORY_COLUMNS)
        self.inventory.setObjectName("fleet_inventory")
        self.rollout_table = _table(ROLLOUT_COLUMNS)
        self.rollout_table.setObjectName("fleet_rollouts")
        self.rollout_table.currentCellChanged.connect(lambda *_a: self._update_buttons())
        self.inventory.currentCellChanged.connect(lambda *_a: self._update_buttons())
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(lambda *_a: self.reload())
        self.add_button = QPushButton("Add...")
        self.add_button.clicked.connect(lambda *_a: self.add())
        self.remove_button = QPushButton("Remove...")
        self.remove_button.clicked.connect(lambda *_a: self.remove())
        self.rollout_button = QPushButton("Roll out...")
        self.rollout_button.clicked.connect(lambda *_a: self.start_rollout())
        self.resume_button = QPushButton("Resume")
        self.resume_button.clicked.connect(lambda *_a: self.resume())
        self.jobs = JobControls(runner)
        self.jobs.sig_busy_changed.connect(lambda _b: self._update_buttons())
        self.detail = QLabel("")
        self.detail.setWordWrap(True)
        self.detail.setStyleSheet(NOTE_STYLE)
        self.rollout_table.currentCellChanged.connect(lambda *_a: self._show_detail())

        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Inventory"))
        layout.addWidget(self.inventory, 2)
        row = QHBoxLayout()
        for button in (self.refresh_button, self.add_button, self.remove_button,
                       self.rollout_button):
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(QLabel("Roll-outs"))
        layout.addWidget(self.rollout_table, 1)
        row = QHBoxLayout()
        row.addWidget(self.resume_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.detail)
        layout.addWidget(self.jobs)
        layout.addWidget(self.jobs.message_label)
        self._update_buttons()

    # -- loading ----------------------------------------------------------------------
    def reload(self) -> None:
        """Read the inventory (with current models) and the roll-outs in the background."""
        sv, who = self.services, self.principal

        def load() -> tuple[list[FleetController], dict[str, str], list[Rollout]]:
            items = sv.fleet.list(who)
            models = {c.name: sv.controllers.current_model(who, target=c.endpoint).active
                      or "-" for c in items}
            return items, models, sv.fleet.rollouts(who)
        self.runner.submit(load, on_done=self._loaded, on_error=self._failed,
                           cancellable=False, writes=False)

    def _loaded(self, result: tuple[list[FleetController], dict[str, str],
                                    list[Rollout]]) -> None:
        self.controllers, models, self.rollouts = result
        _fill(self.inventory, [(c.name, c.group or "-", c.endpoint, c.hardware_id,
                                c.line or "-", c.location or "-", models[c.name])
                               for c in self.controllers])
        _fill(self.rollout_table, [self._rollout_row(r) for r in self.rollouts])
        if self.rollouts:
            self.rollout_table.selectRow(0)
        self._show_detail()
        self._update_buttons()
        self.sig_loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        self.jobs.show_message(f"the fleet could not be read: {describe_error(exc)}",
                               BAD_STYLE)

    @staticmethod
    def _rollout_row(r: Rollout) -> tuple[str, ...]:
        done = sum(s.state in ("done", "skipped") for s in r.steps)
        return (str(r.id), r.ref, r.group, r.state, f"{done} of {len(r.steps)}",
                ", ".join(r.changed) or "-", r.reason or "-")

    def inventory_rows(self) -> list[tuple[str, ...]]:
        return table_rows(self.inventory)

    def rollout_rows(self) -> list[tuple[str, ...]]:
        return table_rows(self.rollout_table)

    def selected_rollout(self) -> Rollout | None:
        row = self.rollout_table.currentRow()
        return self.rollouts[row] if 0 <= row < len(self.rollouts) else None

    def selected_controller(self) -> FleetController | None:
        row = self.inventory.currentRow()
        return self.controllers[row] if 0 <= row < len(self.controllers) else None

    def _show_detail(self) -> None:
        ro = self.selected_rollout()
        if ro is None:
            self.detail.setText("")
            return
        steps = "; ".join(f"{s.controller} {s.state}" + (f" ({s.error})" if s.error else "")
                          for s in ro.steps)
        self.detail.setText(f"{ro.summary()}. Steps: {steps}")

    # -- buttons ----------------------------------------------------------------------
    def _update_buttons(self) -> None:
        busy = self.jobs.running
        ro = self.selected_rollout()

        def resumable() -> str | None:
            if busy:
                return "a roll-out is running"
            if ro is None:
                return "select a roll-out"
            if ro.state == DONE:
                return "this roll-out is done"
            return None
        rules: dict[QAbstractButton, ButtonRule] = {
            self.add_button: (Action.FLEET_EDIT, "Adding a controller",
                              "Add a controller to the inventory",
                              lambda: "a roll-out is running" if busy else None),
            self.remove_button: (Action.FLEET_EDIT, "Removing a controller",
                                 "Take the selected controller out of the inventory",
                                 lambda: "a roll-out is running" if busy else
                                 None if self.selected_controller() else
                                 "select a controller"),
            self.rollout_button: (Action.CONTROLLER_DEPLOY, "Rolling out",
                                  "Roll an approved version out to a group: canary, watch, "
                                  "then batches",
                                  lambda: "a roll-out is running" if busy else
                                  None if self.controllers else "the inventory is empty"),
            self.resume_button: (Action.CONTROLLER_DEPLOY, "Resuming a roll-out",
                                 "Go on with the selected roll-out from its first step not "
                                 "done (after a restart, a stop or a halt)", resumable),
            self.refresh_button: (Action.CONTROLLER_WATCH, "Reading the fleet",
                                  "Read the inventory and the roll-outs again", lambda: None),
        }
        apply_rules(self.principal, rules)

    # -- dialogs (tests replace these) ------------------------------------------------
    def ask_controller(self) -> dict[str, str] | None:
        groups = sorted({c.group for c in self.controllers if c.group})
        dialog = ControllerDialog(groups, self)
        return dialog.values() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def ask_rollout(self) -> dict[str, Any] | None:
        groups: dict[str, list[str]] = {}
        for c in self.controllers:
            groups.setdefault(c.group, []).append(c.name)
        dialog = RolloutDialog(list(self.approved()), groups, self)
        return dialog.values() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def ask_reason(self, name: str) -> str | None:
        text, ok = QInputDialog.getText(self, "Remove a controller",
                                        f"Why does {name} leave the inventory? (audited)")
        return str(text) if ok else None

    # -- actions ----------------------------------------------------------------------
    def add(self) -> None:
        values = self.ask_controller()
        if values is None:
            return
        add, who = self.services.fleet.add, self.principal
        self.jobs.run(lambda: add(who, **values), what="adding", label="adding the controller",
                      on_done=lambda c: self._changed(f"{c.name} added"), cancellable=False)

    def remove(self) -> None:
        c = self.selected_controller()
        if c is None:
            return
        reason = self.ask_reason(c.name)
        if not reason:
            return
        remove, who = self.services.fleet.remove, self.principal
        self.jobs.run(lambda: remove(who, name=c.name, reason=reason), what="removing",
                      label=f"removing {c.name}",
                      on_done=lambda _r: self._changed(f"{c.name} removed"), cancellable=False)

    def _changed(self, text: str) -> None:
        self.jobs.show_message(text, GOOD_STYLE)
        self.reload()

    def start_rollout(self) -> None:
        values = self.ask_rollout()
        if values is None or self.jobs.running:
            return
        start, who = self.services.fleet.start, self.principal
        self.jobs.run(lambda progress, cancel: start(who, progress=progress, cancel=cancel,
                                                     **values),
                      what=f"rolling out {values['ref']}", label="the roll-out",
                      cancelled="the roll-out was stopped; controllers not yet flashed keep "
                      "their model; Resume goes on", on_done=self._ended,
                      after_error=self.reload, keep_bar=True)

    def resume(self) -> None:
        ro = self.selected_rollout()
        if ro is None or self.jobs.running:
            return
        resume, who = self.services.fleet.resume, self.principal
        self.jobs.run(lambda progress, cancel: resume(who, rollout_id=ro.id, progress=progress,
                                                      cancel=cancel),
                      what=f"resuming roll-out {ro.id}", label=f"roll-out {ro.id}",
                      on_done=self._ended, after_error=self.reload, keep_bar=True)

    def _ended(self, ro: Rollout) -> None:
        if ro.state == DONE:
            self.jobs.complete("done")
            self.jobs.show_message(ro.summary(), GOOD_STYLE)
        else:
            self.jobs.show_message(
                f"{ro.summary()}. Changed: {', '.join(ro.changed) or 'none'}; on their old "
                f"model: {', '.join(ro.untouched) or 'none'}",
                BAD_STYLE if ro.state != RUNNING else NOTE_STYLE)
        self.sig_rollout_ended.emit(ro)
        self.reload()
