"""How a session in the main window ends: quit, sign out or switch user, after its jobs have
stopped (cancelled, with "stopping the job…" shown while they notice)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from app.core.principal import Principal
from app.ui.task_runner import TaskRunner
from app.ui.widgets.stopping_notice import StoppingNotice

if TYPE_CHECKING:  # importing the services is the slow part of start-up
    from app.services import Services

log = logging.getLogger(__name__)


class EndKind(StrEnum):
    """Why the session ended; the value is the reason written with the logout event."""

    QUIT = "closed PlantML"
    SIGN_OUT = "signed out"
    SWITCH = "switched user"


@dataclass(frozen=True)
class SessionOutcome:
    """What the window hands back when it has closed: why, and for a switch the user who
    signed in instead."""

    kind: EndKind
    next_principal: Principal | None = None


class SessionCloser:
    """Cancels the runner's jobs, records the logout, and calls ``finished`` once every job
    (the logout included) has ended. While a cancelled job is still on its way out, a
    :class:`StoppingNotice` says so; the window itself is already gone."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 finished: Callable[[], None]) -> None:
        self.services, self.runner, self.principal = services, runner, principal
        self._finished = finished
        self.notice: StoppingNotice | None = None
        self._done = False
        self._connected = False

    def start(self, outcome: SessionOutcome) -> None:
        """Ask every job to stop, record the logout, and finish when the runner is idle."""
        stopping = self.runner.cancellable_running
        self.runner.cancel_all()
        reason = outcome.kind.value
        if outcome.next_principal is not None:
            reason += f" to {outcome.next_principal.username}"
        if not self.runner.closed:
            logout, who = self.services.auth.logout, self.principal
            # Not cancellable, and on the free lane: it must not wait for a cancelled job
            # that is still winding down on the writer lane.
            self.runner.submit(lambda: logout(who, reason=reason), on_done=lambda _r: None,
                               on_error=lambda exc: log.error("logout not recorded: %s", exc),
                               cancellable=False, writes=False)
        if not self.runner.busy:
            self._finish()
            return
        if stopping:
            self.notice = StoppingNotice(stopping)
            self.notice.show()
        self.runner.sig_busy_changed.connect(self._busy_changed)
        self._connected = True

    def _busy_changed(self, busy: bool) -> None:
        if not busy:
            self._finish()

    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        if self._connected:
            self.runner.sig_busy_changed.disconnect(self._busy_changed)
            self._connected = False
        if self.notice is not None:
            self.notice.finish()
            self.notice.deleteLater()
            self.notice = None
        self._finished()
