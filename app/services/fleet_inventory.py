"""The controller inventory, the half of FleetService that is no roll-out: audited add,
update and remove, the listing, and one controller's current model and deployment history."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.core.errors import Conflict, UsageError
from app.core.fleet import Deployment, FleetController
from app.core.principal import Principal
from app.core.roles import Action
from app.services.base import ServiceContext
from app.services.controller_reconcile import Belief
from app.services.controllers import ControllerService, endpoint
from app.services.fleet_history import deployment_history
from app.services.fleet_store import (
    busy_controllers,
    controller_dict,
    controller_record,
    controller_row,
    controllers,
)
from app.store.schema import FleetControllerRow

#: What the inventory may change of a controller.
FIELDS = ("endpoint", "hardware_id", "line", "location", "group")


@dataclass(frozen=True)
class FleetEntry:
    """One controller of the inventory, with its current model and deployment history."""

    controller: FleetController
    current: Belief
    history: tuple[Deployment, ...]


def _text(value: str, what: str, limit: int, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise UsageError(f"the controller's {what} is missing")
    if len(value) > limit:
        raise UsageError(f"the controller's {what} is longer than {limit} characters")
    return value


def _endpoint_text(text: str) -> str:
    """The endpoint as ``tcp:HOST:PORT`` or ``rtu:PORT:BAUD`` (checked), ``#unit=N`` after it
    for a unit other than 1: one spelling per controller, so the uniqueness check holds."""
    return endpoint(_text(text, "endpoint", 300)).target


class FleetInventory:
    """The inventory's use cases; :class:`app.services.fleet.FleetService` adds roll-outs."""

    def __init__(self, ctx: ServiceContext, controllers: ControllerService) -> None:
        self.ctx = ctx
        self.controllers = controllers

    def add(self, principal: Principal, *, name: str, endpoint: str, hardware_id: str,
            line: str = "", location: str = "", group: str = "") -> FleetController:
        """Put a controller into the inventory (audited ``fleet.add``)."""
        rec = FleetController(name=_text(name, "name", 100), endpoint=_endpoint_text(endpoint),
                              hardware_id=_text(hardware_id, "hardware id", 100),
                              line=_text(line, "line", 100, required=False),
                              location=_text(location, "location", 200, required=False),
                              group=_text(group, "group", 100, required=False))
        role = self.ctx.authorize(principal, Action.FLEET_EDIT, f"controller:{rec.name}")

        def body(s: Any) -> FleetController:
            self._unique(s, rec.name, rec.endpoint)
            row = FleetControllerRow(name=rec.name, endpoint=rec.endpoint,
                                     hardware_id=rec.hardware_id, line=rec.line,
                                     location=rec.location, group_name=rec.group,
                                     added_at=self.ctx.clock.now().isoformat(),
                                     added_by=principal.username)
            s.add(row)
            s.flush()
            out = controller_record(row)
            self.ctx.trail.append(s, user=principal.username, role=role.value,
                                  action="fleet.add", obj=f"controller:{rec.name}",
                                  new=controller_dict(out))
            return out
        return self.ctx.write(body)

    def update(self, principal: Principal, *, name: str, reason: str = "",
               **changes: str) -> FleetController:
        """Change a controller's endpoint, hardware id, line, location or group (audited
        ``fleet.update`` with the old and new entry)."""
        unknown = sorted(set(changes) - set(FIELDS))
        if unknown:
            raise UsageError(f"the inventory has no field {', '.join(unknown)}")
        role = self.ctx.authorize(principal, Action.FLEET_EDIT, f"controller:{name}")

        def body(s: Any) -> FleetController:
            row = controller_row(s, name)
            old = controller_dict(controller_record(row))
            for key, given in changes.items():
                if key == "endpoint":
                    value = _endpoint_text(given)
                    self._unique(s, None, value, other_than=row.id)
                elif key == "hardware_id":
                    value = _text(given, "hardware id", 100)
                else:
                    value = _text(given, key, 200 if key == "location" else 100,
                                  required=False)
                setattr(row, "group_name" if key == "group" else key, value)
            s.flush()
            out = controller_record(row)
            self.ctx.trail.append(s, user=principal.username, role=role.value,
                                  action="fleet.update", obj=f"controller:{name}", old=old,
                                  new=controller_dict(out), reason=reason)
            return out
        return self.ctx.write(body)

    def remove(self, principal: Principal, *, name: str, reason: str) -> None:
        """Take a controller out of the inventory (audited ``fleet.remove``; its history
        stays in the audit trail). Refused while a running roll-out holds it."""
        if not reason.strip():
            raise UsageError("say why the controller leaves the inventory")
        role = self.ctx.authorize(principal, Action.FLEET_EDIT, f"controller:{name}")

        def body(s: Any) -> None:
            row = controller_row(s, name)
            busy = busy_controllers(s)
            if name in busy:
                raise Conflict(f"{name} is part of roll-out {busy[name]}, which has not "
                               "ended; let it end first")
            old = controller_dict(controller_record(row))
            s.delete(row)
            self.ctx.trail.append(s, user=principal.username, role=role.value,
                                  action="fleet.remove", obj=f"controller:{name}", old=old,
                                  reason=reason)
        self.ctx.write(body)

    def list(self, principal: Principal, *,
             group: str | None = None) -> builtins.list[FleetController]:
        """The inventory (of one group), by group and name."""
        self.ctx.authorize(principal, Action.CONTROLLER_WATCH, "fleet")
        with self.ctx.db.reader() as s:
            return controllers(s, group)

    def show(self, principal: Principal, *, name: str) -> FleetEntry:
        """A controller, the model the audit trail says it runs, and its deployments."""
        self.ctx.authorize(principal, Action.CONTROLLER_WATCH, f"controller:{name}")
        with self.ctx.db.reader() as s:
            rec = controller_record(controller_row(s, name))
        current = self.controllers.current_model(principal, target=rec.endpoint)
        with self.ctx.db.reader() as s:
            history = deployment_history(s, rec.endpoint)
        return FleetEntry(rec, current, tuple(history))

    def _unique(self, s: Any, name: str | None, where: str, other_than: int = 0) -> None:
        if name is not None and s.scalar(select(FleetControllerRow.id).where(
                FleetControllerRow.name == name)) is not None:
            raise Conflict(f"the inventory already has a controller named {name!r}")
        clash = s.scalar(select(FleetControllerRow).where(
            FleetControllerRow.endpoint == where, FleetControllerRow.id != other_than))
        if clash is not None:
            raise Conflict(f"{where} is already in the inventory as {clash.name!r}")
