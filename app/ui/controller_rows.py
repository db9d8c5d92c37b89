"""What the Controllers page shows per endpoint, from scans and status reads (no Qt)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.errors import NotFound, PermissionDenied, UsageError
from app.core.lifecycle import State
from app.core.principal import Principal
from app.services import Services

#: Table columns.
COLUMNS = ("endpoint", "hardware id", "state", "active model", "last error")


@dataclass(frozen=True)
class ControllerRow:
    """What the table shows for one endpoint."""

    endpoint: str
    hardware_id: str
    state: str
    model: str
    error: str
    found: bool
    model_detail: str = ""
    #: The controller holds somewhere to roll back to (its status says so).
    can_roll_back: bool = False

    def cells(self) -> tuple[str, str, str, str, str]:
        """The texts of the row, in COLUMNS order."""
        return self.endpoint, self.hardware_id, self.state, self.model, self.error


def approved_versions(services: Services, principal: Principal
                      ) -> list[tuple[str, tuple[str, ...]]]:
    """Every approved version with the hardware ids it was released for, line by line,
    newest first (runs on the worker)."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for line in services.registry.lines(principal):
        for v in services.registry.versions(principal, line=line.name):
            if v.state == State.APPROVED.value:
                ids = v.release.body.get("hardware_ids", ()) if v.release is not None else ()
                out.append((v.ref, tuple(str(h) for h in ids)))
    return out


def row_of_scan(text: str, result: Any) -> ControllerRow:
    """The row of endpoint ``text`` after a scan answered (or did not)."""
    if result.identity is None or result.status is None:
        return ControllerRow(text, "", "unreachable", "", result.error or "no answer",
                             found=False)
    return row_of_status(text, result.identity.hardware_id, result.status)


def row_of_status(text: str, hardware_id: str, status: Any) -> ControllerRow:
    """The row of endpoint ``text`` from a status read."""
    active = status.active
    model = f"{active.name}:v{active.version}" if active is not None else "no model"
    return ControllerRow(text, hardware_id, status.state.name.lower().replace("_", " "), model,
                         status.sentence, found=True, model_detail=str(active) if active else "",
                         can_roll_back=status.can_roll_back)


#: The state shown once a watched controller stopped answering.
LOST_STATE = "no answer"


def row_lost(row: ControllerRow, reason: str) -> ControllerRow:
    """``row`` once its controller stopped answering: no longer "active", the model it ran
    marked as last known (what it runs now cannot be read), the reason as the last error."""
    model = row.model
    if row.state != LOST_STATE and model and model != "no model":
        model = f"{model} (last known)"
    return ControllerRow(row.endpoint, row.hardware_id, LOST_STATE, model, reason,
                         found=row.found, model_detail=row.model_detail,
                         can_roll_back=row.can_roll_back)


def is_link_failure(exc: BaseException) -> bool:
    """True when a watch failed because the controller did not answer (not because it runs
    no model or the role may not watch)."""
    return not isinstance(exc, NotFound | PermissionDenied | UsageError)


def endpoints_text(n: int) -> str:
    """``1 endpoint``, ``3 endpoints``."""
    return f"{n} endpoint{'s' if n != 1 else ''}"
