"""Fleet use cases (issue 11.3): the controller inventory (audited), each controller's
deployment history and current model, and roll-outs of an approved version to a group."""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.audit.reading import AuditFilter, query_events
from app.core.clock import Clock
from app.core.errors import Conflict, PlantMLError, UsageError
from app.core.fleet import (
    DONE,
    FAILED,
    PENDING,
    RUNNING,
    Deployment,
    FleetController,
    Rollout,
)
from app.core.lifecycle import State
from app.core.principal import Principal
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.core.roles import Action
from app.services.base import ServiceContext
from app.services.controller_reconcile import Belief
from app.services.controllers import ControllerService, endpoint
from app.services.fleet_lease import LEASE_S, Lease
from app.services.fleet_rollout import RolloutRunner
from app.services.fleet_store import (
    busy_controllers,
    controller_dict,
    controller_record,
    controller_row,
    controllers,
    rollout,
    rollout_row,
    rollouts,
    step_row,
)
from app.store.schema import FleetControllerRow, RolloutRow, RolloutStepRow

log = logging.getLogger(__name__)

#: What the inventory may change of a controller.
FIELDS = ("endpoint", "hardware_id", "line", "location", "group")
#: Bounds of a roll-out's knobs (a bus or a workstation flooded with flashes helps nobody).
MAX_PARALLEL = 32


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


class FleetService:
    """The inventory and roll-outs; flashing and watching go through ControllerService."""

    def __init__(self, ctx: ServiceContext, controllers: ControllerService, *,
                 clock: Clock | None = None, sleep: Callable[[float], None] | None = None,
                 poll_s: float = 1.0, lease_s: float = LEASE_S) -> None:
        self.ctx = ctx
        self.controllers = controllers
        #: The observation's and the lease's clock, and the sleep (tests pass a fake clock
        #: and its ``advance``).
        self.clock = clock or ctx.clock
        self.sleep = sleep or time.sleep
        self.poll_s = poll_s
        #: How long a roll-out's lease holds unless its runner renews it.
        self.lease_s = lease_s
        self._active: set[int] = set()
        self._lock = threading.Lock()

    # -- inventory --------------------------------------------------------------------
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
        return FleetEntry(rec, current, tuple(self._history(rec.endpoint)))

    def _history(self, target: str, limit: int = 200) -> builtins.list[Deployment]:
        with self.ctx.db.reader() as s:
            events = query_events(s, AuditFilter(action="controller.", text=target,
                                                 limit=limit))
        out = []
        for ev in events:
            new = ev.new if isinstance(ev.new, dict) else {}
            device = new.get("device") if isinstance(new.get("device"), dict) else {}
            model: str | None
            if ev.action == "controller.deploy" and new.get("target") == target:
                model = ev.object.removeprefix("model:")
                sha = (device or {}).get("active_sha256")
            elif ev.action == "controller.rollback" and ev.object == target:
                model, sha = (device or {}).get("active"), (device or {}).get("active_sha256")
            elif ev.action == "controller.reconcile" and ev.object == target:
                model, sha = new.get("active"), new.get("active_sha256")
            else:
                continue
            out.append(Deployment(seq=ev.seq, time=ev.ts, user=ev.user, action=ev.action,
                                  result=ev.result, model=model, sha256=sha, reason=ev.reason))
        return out

    def _unique(self, s: Any, name: str | None, where: str, other_than: int = 0) -> None:
        if name is not None and s.scalar(select(FleetControllerRow.id).where(
                FleetControllerRow.name == name)) is not None:
            raise Conflict(f"the inventory already has a controller named {name!r}")
        clash = s.scalar(select(FleetControllerRow).where(
            FleetControllerRow.endpoint == where, FleetControllerRow.id != other_than))
        if clash is not None:
            raise Conflict(f"{where} is already in the inventory as {clash.name!r}")

    # -- roll-outs --------------------------------------------------------------------
    def create(self, principal: Principal, *, ref: str, group: str,
               canary: str | None = None, batch_size: int = 5, parallel: int = 4,
               observe_s: float = 60.0, invalid_share: float = 0.2) -> Rollout:
        """Plan a roll-out of the approved version ``ref`` to ``group``: the canary (the
        named controller, else the group's first by name) is batch 0, the others follow in
        batches of ``batch_size`` by name. Audited ``fleet.rollout.start``; nothing is
        flashed until :meth:`run`."""
        if batch_size < 1:
            raise UsageError("a batch holds at least one controller")
        if not 1 <= parallel <= MAX_PARALLEL:
            raise UsageError(f"parallel flashes must be between 1 and {MAX_PARALLEL}")
        if observe_s < 0:
            raise UsageError("the observation time cannot be negative")
        if not 0.0 <= invalid_share <= 1.0:
            raise UsageError("the invalid-input share is a fraction between 0 and 1")
        role = self.ctx.authorize(principal, Action.CONTROLLER_DEPLOY, f"model:{ref}")
        version = self.controllers.registry.show(principal, ref=ref)
        if version.state != State.APPROVED.value:
            msg = f"{ref} is {version.state}: only approved versions are rolled out"
            self.ctx.audit_outcome(principal, role.value, "fleet.rollout.start",
                                   f"model:{ref}", result="refused", reason=msg,
                                   new={"group": group})
            raise UsageError(msg)
        allowed = set((version.release.body.get("hardware_ids") or [])
                      if version.release else [])

        def body(s: Any) -> Rollout:
            members = controllers(s, group)
            if not members:
                raise UsageError(f"group {group!r} has no controllers in the inventory")
            names = [m.name for m in members]
            first = canary or names[0]
            if first not in names:
                raise UsageError(f"the canary {first!r} is not in group {group!r}")
            wrong = [m.name for m in members if allowed and m.hardware_id not in allowed]
            if wrong:
                raise UsageError(f"{version.ref} is approved for {', '.join(sorted(allowed))} "
                                 f"only; {', '.join(wrong)} in group {group!r} have another "
                                 "hardware id")
            busy = busy_controllers(s)
            held = [n for n in names if n in busy]
            if held:
                raise Conflict(f"{', '.join(held)} are in roll-out {busy[held[0]]}, which has "
                               "not ended; resume or let it end first")
            now = self.ctx.clock.now().isoformat()
            row = RolloutRow(ref=version.ref, group_name=group, canary=first,
                             batch_size=batch_size, parallel=parallel, observe_s=observe_s,
                             invalid_share=invalid_share, state=RUNNING, observed_batch=-1,
                             reason="", workstation=self.ctx.trail.workstation,
                             created_at=now, created_by=principal.username, updated_at=now)
            s.add(row)
            s.flush()
            order = [first] + [n for n in names if n != first]
            by_name = {m.name: m for m in members}
            for pos, name in enumerate(order):
                s.add(RolloutStepRow(rollout_id=row.id, position=pos,
                                     batch=0 if pos == 0 else 1 + (pos - 1) // batch_size,
                                     controller=name, endpoint=by_name[name].endpoint,
                                     state=PENDING, error=""))
            s.flush()
            rec = rollout(s, row.id)
            self.ctx.trail.append(
                s, user=principal.username, role=role.value, action="fleet.rollout.start",
                obj=f"rollout:{row.id}",
                new={"ref": rec.ref, "group": group, "canary": first,
                     "batch_size": batch_size, "parallel": parallel, "observe_s": observe_s,
                     "invalid_share": invalid_share, "controllers": order,
                     "batches": rec.batches})
            return rec
        return self.ctx.write(body)

    def run(self, principal: Principal, *, rollout_id: int,
            progress: ProgressFn = no_progress,
            cancel: CancelToken = NEVER_CANCELLED) -> Rollout:
        """Carry out a roll-out from its first step not done: halted on the first failure
        (flash error, controller lost, drift alarm, invalid-input surge), stopped by
        ``cancel``; returns it as it ended. Its lease is claimed first: refused (Conflict,
        naming the workstation and when its lease ends) while another run holds it."""
        role = self.ctx.authorize(principal, Action.CONTROLLER_DEPLOY, f"rollout:{rollout_id}")
        self._enter(rollout_id)
        try:
            lease = self._lease(rollout_id)
            self.ctx.write(lease.claim)
            return self._drive(principal, role.value, lease, progress, cancel)
        finally:
            self._leave(rollout_id)

    def _enter(self, rollout_id: int) -> None:
        """Refuse a second run of one roll-out in this process (the lease covers others)."""
        with self._lock:
            if rollout_id in self._active:
                raise Conflict(f"roll-out {rollout_id} is already running on this workstation")
            self._active.add(rollout_id)

    def _leave(self, rollout_id: int) -> None:
        with self._lock:
            self._active.discard(rollout_id)

    def _lease(self, rollout_id: int) -> Lease:
        return Lease(rollout_id, self.ctx.trail.workstation, self.clock, self.lease_s)

    def _drive(self, principal: Principal, role: str, lease: Lease, progress: ProgressFn,
               cancel: CancelToken) -> Rollout:
        """Run a roll-out whose lease ``lease`` holds; the lease is given up at the end
        (with the final state, or here if the run broke off)."""
        try:
            runner = RolloutRunner(self.ctx, self.controllers, principal=principal, role=role,
                                   clock=self.clock, sleep=self.sleep, poll_s=self.poll_s,
                                   lease=lease)
            return runner.run(lease.rollout_id, progress, cancel)
        finally:
            try:
                self.ctx.write(lease.release)
            except PlantMLError as exc:  # it lapses by itself
                log.warning("roll-out %s: lease not released: %s", lease.rollout_id, exc)

    def start(self, principal: Principal, *, ref: str, group: str,
              canary: str | None = None, batch_size: int = 5, parallel: int = 4,
              observe_s: float = 60.0, invalid_share: float = 0.2,
              progress: ProgressFn = no_progress,
              cancel: CancelToken = NEVER_CANCELLED,
              created: Callable[[Rollout], None] | None = None) -> Rollout:
        """:meth:`create`, then :meth:`run`; ``created`` hears the new roll-out first (its
        id is what ``resume`` takes after an interruption)."""
        ro = self.create(principal, ref=ref, group=group, canary=canary,
                         batch_size=batch_size, parallel=parallel, observe_s=observe_s,
                         invalid_share=invalid_share)
        if created is not None:
            created(ro)
        return self.run(principal, rollout_id=ro.id, progress=progress, cancel=cancel)

    def resume(self, principal: Principal, *, rollout_id: int, reason: str = "",
               take_over: bool = False, progress: ProgressFn = no_progress,
               cancel: CancelToken = NEVER_CANCELLED) -> Rollout:
        """Go on with an interrupted, stopped or halted roll-out (audited
        ``fleet.rollout.resume``): steps interrupted mid-flash are read from the device,
        failed steps are tried again, the rest continues where it ended.

        Refused (audited) while another workstation's lease on it is live, unless
        ``take_over`` (with a ``reason``; audited ``fleet.rollout.takeover`` naming the
        workstation it was taken from): that runner stops at its next record."""
        role = self.ctx.authorize(principal, Action.CONTROLLER_DEPLOY, f"rollout:{rollout_id}")
        if take_over and not reason.strip():
            raise UsageError("say why the roll-out is taken over from the workstation "
                             "running it")
        self._enter(rollout_id)
        try:
            lease = self._lease(rollout_id)
            try:
                self.ctx.write(lambda s: self._resumed(s, principal, role.value, lease,
                                                       reason, take_over))
            except (Conflict, UsageError) as exc:
                self.ctx.audit_outcome(principal, role.value, "fleet.rollout.resume",
                                       f"rollout:{rollout_id}", result="refused",
                                       reason=str(exc))
                raise
            return self._drive(principal, role.value, lease, progress, cancel)
        finally:
            self._leave(rollout_id)

    def _resumed(self, s: Any, principal: Principal, role: str, lease: Lease, reason: str,
                 take_over: bool) -> Rollout:
        """The resume's transaction: the lease claimed (or taken over), failed steps made
        pending again, the roll-out running; audited."""
        rollout_id = lease.rollout_id
        taken = lease.claim(s, take_over=take_over)
        row = rollout_row(s, rollout_id)
        if row.state == DONE:
            raise UsageError(f"roll-out {rollout_id} is done; there is nothing to resume")
        busy = {n: r for n, r in busy_controllers(s, exclude=rollout_id).items()}
        rec = rollout(s, rollout_id)
        held = [st.controller for st in rec.steps if st.controller in busy]
        if held:
            raise Conflict(f"{', '.join(held)} are in roll-out {busy[held[0]]} now")
        if taken is not None:
            self.ctx.trail.append(
                s, user=principal.username, role=role, action="fleet.rollout.takeover",
                obj=f"rollout:{rollout_id}", reason=reason,
                old={"workstation": taken.workstation, "lease_until": taken.until},
                new={"workstation": lease.workstation, "lease_until": rec.lease_until})
        before = row.state
        row.state, row.reason = RUNNING, ""
        row.updated_at = self.ctx.clock.now().isoformat()
        for st in rec.steps:
            if st.state == FAILED:
                step_row(s, rollout_id, st.position).state = PENDING
        s.flush()
        self.ctx.trail.append(
            s, user=principal.username, role=role, action="fleet.rollout.resume",
            obj=f"rollout:{rollout_id}", reason=reason,
            old={"state": before, "reason": rec.reason},
            new={"ref": rec.ref, "failed_again": [f.controller for f in rec.failed],
                 "untouched": rec.untouched, "workstation": lease.workstation})
        return rollout(s, rollout_id)

    def status(self, principal: Principal, *, rollout_id: int) -> Rollout:
        """A roll-out and its steps as recorded."""
        self.ctx.authorize(principal, Action.CONTROLLER_WATCH, f"rollout:{rollout_id}")
        with self.ctx.db.reader() as s:
            return rollout(s, rollout_id)

    def rollouts(self, principal: Principal, *, limit: int = 50) -> builtins.list[Rollout]:
        """The newest roll-outs first."""
        self.ctx.authorize(principal, Action.CONTROLLER_WATCH, "fleet")
        with self.ctx.db.reader() as s:
            return rollouts(s, limit)
