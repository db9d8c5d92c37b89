"""Fleet use cases (issue 11.3): roll-outs of an approved version to a group (planned,
run under a lease, resumed, shown), on top of the controller inventory (fleet_inventory.py)."""

from __future__ import annotations

import builtins
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from app.core.clock import Clock
from app.core.errors import Conflict, PlantMLError, UsageError
from app.core.fleet import DONE, FAILED, PENDING, RUNNING, Rollout
from app.core.lifecycle import State
from app.core.principal import Principal
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.core.roles import Action
from app.services.base import ServiceContext
from app.services.controllers import ControllerService
from app.services.fleet_inventory import FleetInventory
from app.services.fleet_lease import LEASE_S, Lease
from app.services.fleet_rollout import RolloutRunner
from app.services.fleet_store import (
    busy_controllers,
    controllers,
    rollout,
    rollout_row,
    rollouts,
    step_row,
)
from app.store.schema import RolloutRow, RolloutStepRow

log = logging.getLogger(__name__)

#: Bounds of a roll-out's knobs (a bus or a workstation flooded with flashes helps nobody).
MAX_PARALLEL = 32


class FleetService(FleetInventory):
    """The inventory and roll-outs; flashing and watching go through ControllerService."""

    def __init__(self, ctx: ServiceContext, controllers: ControllerService, *,
                 clock: Clock | None = None, sleep: Callable[[float], None] | None = None,
                 poll_s: float = 1.0, lease_s: float = LEASE_S) -> None:
        super().__init__(ctx, controllers)
        #: The observation's and the lease's clock, and the sleep (tests pass a fake clock
        #: and its ``advance``).
        self.clock = clock or ctx.clock
        self.sleep = sleep or time.sleep
        self.poll_s = poll_s
        #: How long a roll-out's lease holds unless its runner renews it.
        self.lease_s = lease_s
        self._active: set[int] = set()
        self._lock = threading.Lock()

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
