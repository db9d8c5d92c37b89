"""Flash and rollback of one controller as page jobs, and what the page says when they end."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.core.principal import Principal
from app.services import Services
from app.ui.styles import BAD_STYLE, GOOD_STYLE
from app.ui.task_runner import describe_error
from app.ui.widgets.controller_table import ControllerTable
from app.ui.widgets.job_controls import JobControls

log = logging.getLogger(__name__)


class FlashJobs(QObject):
    """Runs a flash (once the password is checked again) or a rollback on ``jobs``;
    ``show_status(target, hardware_id, status)`` puts the status read back into the page's
    table, and after a failure the controller is read again so its last error shows."""

    sig_flashed = Signal(object)
    """A flash finished (committed or not); carries the service's FlashOutcome."""

    sig_rolled_back = Signal(object)
    """A rollback finished; carries the controller's status read back."""

    def __init__(self, services: Services, principal: Principal, jobs: JobControls,
                 table: ControllerTable, show_status: Callable[[str, str | None, Any], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services, self.principal, self.jobs, self.table = services, principal, jobs, table
        self._show_status = show_status

    def flash(self, target: str, ref: str, password: str) -> None:
        """Flash ``ref`` into ``target``, with progress and Cancel, after ``password``
        confirms the signed-in user."""
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
            after_error=lambda: self.reread(target), keep_bar=True)

    def rollback(self, target: str, reason: str) -> None:
        """Make ``target`` return to its previous model, for ``reason``."""
        rollback, principal = self.services.controllers.rollback, self.principal
        # The device reports no steps: a busy bar, and no Cancel.
        self.jobs.run(
            lambda: rollback(principal, target=target, reason=reason),
            what=f"rolling {target} back", label="rollback",
            cancelled=f"rollback cancelled; {target} keeps its model",
            on_done=lambda status: self._rolled_back(target, status),
            after_error=lambda: self.reread(target), cancellable=False)

    def reread(self, target: str) -> None:
        """Read ``target``'s identity and status again (after a failed flash or rollback)."""
        status, principal = self.services.controllers.status, self.principal
        self.jobs.runner.submit(
            lambda: status(principal, target=target),
            on_done=lambda pair: self._show_status(target, pair[0].hardware_id, pair[1]),
            on_error=lambda exc: log.info("%s could not be re-read: %s",
                                          target, describe_error(exc)),
            cancellable=False, writes=False)

    def _flashed(self, target: str, ref: str, outcome: Any) -> None:
        self._show_status(target, None, outcome.status)
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
        self._show_status(target, None, status)
        row = self.table.rows.get(target)
        now = row.model if row is not None else "its previous model"
        self.jobs.show_message(f"{target} rolled back; it runs {now}", GOOD_STYLE)
        self.sig_rolled_back.emit(status)
