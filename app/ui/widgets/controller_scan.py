"""The Controllers page's scan: the Scan button, the line saying what it found, the scan job."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QLabel, QPushButton

from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.ui.controller_rows import endpoints_text, row_of_scan
from app.ui.look import icon
from app.ui.permissions import may
from app.ui.styles import BAD_STYLE, NOTE_STYLE
from app.ui.task_runner import TaskRunner, describe_error


class ControllerScan(QObject):
    """``button`` reads identity and status at every endpoint ``endpoints()`` lists, on the
    task runner's free lane, one scan at a time; ``label`` says how many answered."""

    sig_changed = Signal()
    """A scan started or failed (the page's buttons follow)."""

    sig_scanned = Signal(object)
    """A scan finished; carries the ControllerRow of each endpoint scanned, by endpoint."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 endpoints: Callable[[], list[str]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.principal = services, runner, principal
        self._endpoints = endpoints
        self.running = False
        self.button = QPushButton(icon("scan"), "Scan")
        self.button.clicked.connect(self._clicked)
        self.label = QLabel("not scanned yet")
        self.label.setStyleSheet(NOTE_STYLE)

    def scan(self) -> None:
        """Read identity and status at every listed endpoint in the background."""
        targets = self._endpoints()
        if self.running or not targets or not may(self.principal, Action.CONTROLLER_WATCH):
            return
        scan, principal = self.services.controllers.scan, self.principal
        self.running = True
        self.label.setText(f"scanning {endpoints_text(len(targets))}...")
        self.label.setStyleSheet(NOTE_STYLE)
        self.runner.submit(lambda: scan(principal, endpoints=targets),
                           on_done=lambda results: self._scanned(targets, results),
                           on_error=self._failed, cancellable=False, writes=False)
        self.sig_changed.emit()

    def _clicked(self, *_args: object) -> None:
        self.scan()

    def _scanned(self, targets: list[str], results: list[Any]) -> None:
        self.running = False
        rows = {text: row_of_scan(text, result)
                for text, result in zip(targets, results, strict=True)}
        found = sum(1 for row in rows.values() if row.found)
        self.label.setText(f"{found} of {endpoints_text(len(targets))} answered")
        self.label.setStyleSheet(NOTE_STYLE)
        self.sig_scanned.emit(rows)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.label.setText(f"scan failed: {describe_error(exc)}")
        self.label.setStyleSheet(BAD_STYLE)
        self.sig_changed.emit()
