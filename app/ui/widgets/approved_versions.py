"""The approved versions a flash may choose from, with the hardware ids each was released for."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.ui.controller_rows import approved_versions
from app.ui.permissions import may
from app.ui.styles import BAD_STYLE
from app.ui.task_runner import TaskRunner, describe_error


class ApprovedVersions(QObject):
    """Lists the approved versions on the task runner (for a role that may flash and read
    models) and keeps them, newest first, with the hardware ids each was released for; a
    failure is said through ``show_message``."""

    sig_changed = Signal()
    """The list was reloaded, or emptied because it could not be read."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 show_message: Callable[[str, str], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.principal = services, runner, principal
        self._say = show_message
        self.refs: list[str] = []
        self.hardware_ids: dict[str, tuple[str, ...]] = {}  # ref -> its hardware ids

    def load(self) -> None:
        """Reload the approved versions (in the background)."""
        if not (may(self.principal, Action.CONTROLLER_DEPLOY)
                and may(self.principal, Action.MODEL_READ)):
            return
        services, principal = self.services, self.principal
        self.runner.submit(lambda: approved_versions(services, principal),
                           on_done=self._loaded, on_error=self._failed,
                           cancellable=False, writes=False)

    def for_hardware(self, hardware_id: str) -> list[str]:
        """The approved versions released for ``hardware_id``, newest first."""
        return [ref for ref in self.refs if hardware_id in self.hardware_ids.get(ref, ())]

    def _loaded(self, approved: list[tuple[str, tuple[str, ...]]]) -> None:
        self.refs = [ref for ref, _ids in approved]
        self.hardware_ids = dict(approved)
        self.sig_changed.emit()

    def _failed(self, exc: BaseException) -> None:
        self.refs = []
        self.hardware_ids = {}
        self._say("the approved versions could not be listed: "
                  f"{describe_error(exc)}", BAD_STYLE)
        self.sig_changed.emit()
