"""The Controllers page's watch: the Watch button, the live panel and the shadow line."""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPushButton

from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.ui.controller_rows import is_link_failure, row_lost
from app.ui.look import icon
from app.ui.permissions import may
from app.ui.styles import BAD_STYLE
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets.controller_table import ControllerTable
from app.ui.widgets.shadow_panel import ShadowPanel
from app.ui.widgets.watch_panel import WatchPanel


class ControllerWatch(QObject):
    """``button`` (checkable) watches the controller selected in ``table`` in ``panel`` (its
    prediction, drift and plot) and ``shadow`` (a model in shadow on it: its agreement and
    latency), and stops again. A failed poll comes back from the worker as a queued signal
    (the worker touches no widget); once the controller does not answer, its row in
    ``table`` stops saying "active" and its last prediction is no longer shown as current."""

    sig_changed = Signal()
    """Watching started or stopped (the page's buttons follow)."""

    sig_updated = Signal(str, object)
    """A poll arrived (before the shadow line is read again); carries the endpoint and the
    WatchResult."""

    sig_row_changed = Signal(str)
    """The watched controller's row now says it does not answer; carries its endpoint."""

    sig_lost = Signal(str)
    """The watched controller stopped answering; carries its endpoint."""

    sig_failed = Signal(str, object)
    """A poll failed on the worker; carries the endpoint and the exception (queued)."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 table: ControllerTable, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services, self.principal, self.table = services, principal, table
        self.panel = WatchPanel(runner)
        self.panel.sig_updated.connect(self.sig_updated)
        self.panel.sig_stopped.connect(self.stop)
        shadow_status = services.controllers.shadow_status
        self.shadow = ShadowPanel(runner, lambda target: shadow_status(principal, target=target))
        self.panel.sig_updated.connect(self.shadow.refresh)
        self.button = QPushButton(icon("watch"), "Watch")
        self.button.setCheckable(True)
        self.button.toggled.connect(self._toggled)
        self.sig_failed.connect(self._failed)

    @property
    def target(self) -> str | None:
        """The endpoint being watched, or None."""
        return self.panel.target

    def start(self) -> None:
        """Poll the selected controller about once a second and plot its predictions."""
        target = self.table.selected_found()
        if target is None or not may(self.principal, Action.CONTROLLER_WATCH):
            self._set_checked(False)
            return
        watch, principal = self.services.controllers.watch, self.principal
        failed = self.sig_failed

        def poll():
            try:
                return watch(principal, target=target)
            except Exception as exc:
                # Queued to the GUI thread; a page already closed has no one to tell.
                with contextlib.suppress(RuntimeError):
                    failed.emit(target, exc)
                raise

        self._set_checked(True)
        self.panel.start(target, poll)
        self.sig_changed.emit()

    def stop(self) -> None:
        """Stop polling; the plot keeps what it shows."""
        self.panel.stop()
        self.shadow.clear()
        self._set_checked(False)
        self.sig_changed.emit()

    def _set_checked(self, on: bool) -> None:
        self.button.blockSignals(True)
        self.button.setChecked(on)
        self.button.setText("Stop watching" if on else "Watch")
        self.button.blockSignals(False)

    def _toggled(self, on: bool) -> None:
        if on:
            self.start()
        else:
            self.stop()

    def _failed(self, target: str, exc: BaseException) -> None:
        if target != self.panel.target or not is_link_failure(exc):
            return
        reason = describe_error(exc)
        row = self.table.rows.get(target)
        if row is not None and self.table.replace(row_lost(row, reason)):
            self.sig_row_changed.emit(target)
        self.panel.prediction_label.setText(f"{target} does not answer: no current "
                                            "prediction (the plot keeps the earlier ones)")
        self.panel.prediction_label.setStyleSheet(BAD_STYLE)
        self.panel.mark_lost()
        self.sig_lost.emit(target)
