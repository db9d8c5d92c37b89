"""Base of the pages and panels that call the services for the signed-in user."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QAbstractButton, QWidget

from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.ui.permissions import may, refusal_text
from app.ui.task_runner import TaskRunner
from app.ui.widgets.job_controls import JobControls


class Page(QWidget):
    """Holds the services, the task runner their calls run on, and the signed-in user."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.principal = principal

    def stop_background(self) -> None:
        """Stop the page's periodic work (polls, timers) before its window closes; a job it
        started is cancelled by the runner."""

    def read_if_allowed(self, jobs: JobControls, *, action: Action, what: str,
                        button: QAbstractButton, fn: Callable[[], Any],
                        on_done: Callable[[Any], None]) -> bool:
        """Run the read ``fn`` (see :meth:`JobControls.fetch`) if the role may ``action``;
        otherwise do not even ask (the refusal would only add noise to the audit trail):
        grey ``button`` out and say why. False if refused."""
        if not may(self.principal, action):
            jobs.refuse(button, refusal_text(self.principal, action, what))
            return False
        jobs.fetch(fn, button=button, on_done=on_done)
        return True
