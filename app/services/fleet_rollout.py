"""Running a roll-out: the canary, then batches, each flashed through ControllerService and
watched for a set time; TCP controllers in parallel (bounded), RTU controllers one at a time
per serial port (whatever their unit ids); the first failure halts it, and every step is
written (and audited) before and after it runs, so a roll-out resumes after a restart from
what the devices say. The runner holds the roll-out's lease (fleet_lease.py) and renews it
with every record it writes; a runner whose lease another workstation took stops at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from app.core.clock import Clock
from app.core.errors import Cancelled, NotFound, PlantMLError
from app.core.fleet import (
    DONE,
    FAILED,
    FLASHED,
    FLASHING,
    HALTED,
    PENDING,
    SKIPPED,
    STOPPED,
    Rollout,
    RolloutStep,
)
from app.core.principal import Principal
from app.core.progress import CancelToken, ProgressFn
from app.services.base import ServiceContext
from app.services.controllers import ControllerService, endpoint
from app.services.fleet_lease import Lease, LeaseLost
from app.services.fleet_store import rollout, rollout_row, step_dict, step_record, step_row

log = logging.getLogger(__name__)

#: An invalid-input share is judged only over at least this many windows.
MIN_WINDOWS = 20


class EitherCancel(CancelToken):
    """Cancelled when any of ``tokens`` is (the user's Cancel, or a halt of the batch)."""

    def __init__(self, *tokens: CancelToken) -> None:
        super().__init__()
        self._tokens = tokens

    @property
    def cancelled(self) -> bool:
        return super().cancelled or any(t.cancelled for t in self._tokens)

    def raise_if_cancelled(self) -> None:
        if self.cancelled:
            raise Cancelled("cancelled by the user")


def model_of(status: Any) -> tuple[str | None, str | None]:
    """(ref, sha256) of the model a device status says is active."""
    active = getattr(status, "active", None)
    if active is None:
        return None, None
    return f"{active.name}:v{active.version}", active.sha256


def chains(steps: list[RolloutStep]) -> list[list[RolloutStep]]:
    """What may run side by side: the controllers of one bus together, one after another (a
    bus carries one master's flash at a time), the buses side by side. A bus is a serial
    port, whatever the unit ids on it; on TCP a host and port (a controller alone, or the
    units behind one gateway)."""
    out: dict[str, list[RolloutStep]] = {}
    for st in steps:
        out.setdefault(endpoint(st.endpoint).bus, []).append(st)
    return list(out.values())


class RolloutRunner:
    """Runs one roll-out to its end, a halt or a stop."""

    def __init__(self, ctx: ServiceContext, controllers: ControllerService, *,
                 principal: Principal, role: str, clock: Clock,
                 sleep: Callable[[float], None], poll_s: float, lease: Lease) -> None:
        self.ctx, self.controllers = ctx, controllers
        self.principal, self.role = principal, role
        self.clock, self.sleep, self.poll_s = clock, sleep, poll_s
        self.lease = lease
        #: The running batch's halt token: a lost lease stops the flashes under way.
        self._halt = CancelToken()

    # -- the roll-out -----------------------------------------------------------------
    def run(self, rollout_id: int, progress: ProgressFn, cancel: CancelToken) -> Rollout:
        ro = self._load(rollout_id)
        if ro.state == DONE:
            return ro
        for st in ro.steps:
            if st.state == FLASHING:
                self._settle(ro, st)
        ro = self._load(rollout_id)
        try:
            for batch in range(ro.batches):
                cancel.raise_if_cancelled()
                todo = [s for s in ro.steps if s.batch == batch and s.state in (PENDING, FAILED)]
                if todo:
                    failure = self._flash_batch(ro, todo, progress, cancel)
                    ro = self._load(rollout_id)
                    if failure:
                        return self._end(ro, HALTED, "fleet.rollout.halt", failure, "halted")
                    cancel.raise_if_cancelled()
                if ro.observed_batch < batch:
                    flashed = [s for s in ro.steps if s.batch == batch and s.state == FLASHED]
                    failure = self._observe(ro, batch, flashed, progress, cancel)
                    if failure:
                        ro = self._load(rollout_id)
                        return self._end(ro, HALTED, "fleet.rollout.halt", failure, "halted")
                    ro = self._load(rollout_id)
        except Cancelled:
            ro = self._load(rollout_id)
            return self._end(ro, STOPPED, "fleet.rollout.stop",
                             "stopped by the user; resume it to go on", "stopped")
        progress(1.0, "done")
        return self._end(ro, DONE, "fleet.rollout.done", "", "ok")

    def _end(self, ro: Rollout, state: str, action: str, reason: str, result: str) -> Rollout:
        def body(s: Any) -> Rollout:
            self.lease.hold(s)
            row = rollout_row(s, ro.id)
            row.state, row.reason = state, reason
            row.updated_at = self._now()
            # The run ends here: the lease is given up with the final state.
            row.lease_owner = row.lease_token = row.lease_until = None
            s.flush()
            rec = rollout(s, ro.id)
            self.ctx.trail.append(
                s, user=self.principal.username, role=self.role, action=action,
                obj=f"rollout:{ro.id}", reason=reason, result=result,
                new={"ref": ro.ref, "group": ro.group, "state": state,
                     "changed": rec.changed, "untouched": rec.untouched,
                     "failed": [f.controller for f in rec.failed]})
            return rec
        return self.ctx.write(body)

    # -- flashing ---------------------------------------------------------------------
    def _flash_batch(self, ro: Rollout, todo: list[RolloutStep], progress: ProgressFn,
                     cancel: CancelToken) -> str:
        """Flash ``todo``; returns the first failure ('' if none). A failure stops the
        batch: steps not begun stay pending, flashes under way are cancelled (the device
        keeps its old model) or, if past their commit, recorded as changed."""
        halt = self._halt = CancelToken()
        token = EitherCancel(cancel, halt)
        failures: list[str] = []
        lost: list[LeaseLost] = []
        lock = threading.Lock()
        total = max(1, len(ro.steps))
        done = [sum(s.state in (FLASHED, SKIPPED) for s in ro.steps)]

        def chain(steps: list[RolloutStep]) -> None:
            for st in steps:
                if token.cancelled:
                    return
                try:
                    failure = self._flash_step(ro, st, token)
                except LeaseLost as exc:
                    # Another workstation runs the roll-out now: stop every chain.
                    with lock:
                        lost.append(exc)
                        halt.cancel()
                    return
                with lock:
                    if failure:
                        failures.append(failure)
                        halt.cancel()
                        return
                    done[0] += 1
                    progress(min(done[0] / total, 0.99),
                             f"{done[0]} of {total} controllers done")

        groups = chains(todo)
        with ThreadPoolExecutor(max_workers=max(1, min(ro.parallel, len(groups))),
                                thread_name_prefix=f"rollout-{ro.id}") as pool:
            futures = [pool.submit(chain, g) for g in groups]
            errors = [f.exception() for f in futures]
        unexpected = [e for e in errors if e is not None]
        if unexpected:
            raise unexpected[0]
        if lost:
            raise lost[0]
        return failures[0] if failures else ""

    def _flash_step(self, ro: Rollout, st: RolloutStep, token: CancelToken) -> str:
        """One controller: read it, skip it if it already runs the version, else write the
        step as flashing, flash, and write what the device says; returns a failure or ''."""
        try:
            _, status = self.controllers.status(self.principal, target=st.endpoint)
        except PlantMLError as exc:
            reason = f"{st.controller} ({st.endpoint}) could not be read before its flash: {exc}"
            self._step(ro, st, result="failed", reason=reason, state=FAILED, error=reason,
                       finished_at=self._now())
            return reason
        model, sha = model_of(status)
        if model == ro.ref:
            self._step(ro, st, result="skipped", reason=f"{st.controller} already runs {model}",
                       state=SKIPPED, before_model=model, before_sha256=sha, after_model=model,
                       after_sha256=sha, error="", finished_at=self._now())
            return ""
        if token.cancelled:
            return ""
        self._step(ro, st, result="started", reason=f"flashing {ro.ref} into {st.controller}",
                   state=FLASHING, before_model=model, before_sha256=sha, after_model=None,
                   after_sha256=None, error="", started_at=self._now(), finished_at=None)
        try:
            out = self.controllers.flash(self.principal, ref=ro.ref, target=st.endpoint,
                                         cancel=token, progress=self._keep_alive)
        except Cancelled:
            self._after_stop(ro, st)
            return ""
        except PlantMLError as exc:
            now_model, now_sha = self._read_quietly(st.endpoint, model, sha)
            reason = f"{st.controller} ({st.endpoint}): {exc}"
            self._step(ro, st, result="failed", reason=reason, state=FAILED, error=reason,
                       after_model=now_model, after_sha256=now_sha, finished_at=self._now())
            return reason
        new_model, new_sha = model_of(out.status)
        if not out.ok or new_model != ro.ref:
            reason = f"{st.controller} ({st.endpoint}) did not take {ro.ref}: " \
                f"{out.status.summary()}"
            self._step(ro, st, result="failed", reason=reason, state=FAILED, error=reason,
                       after_model=new_model, after_sha256=new_sha, finished_at=self._now())
            return reason
        self._step(ro, st, result="ok", reason=f"{st.controller} runs {new_model}",
                   state=FLASHED, after_model=new_model, after_sha256=new_sha,
                   finished_at=self._now())
        return ""

    def _after_stop(self, ro: Rollout, st: RolloutStep) -> None:
        """A flash cancelled under way: what the device runs now decides the step."""
        model, sha = self._read_quietly(st.endpoint, st.before_model, st.before_sha256)
        current = self._load(ro.id).steps[st.position]
        if model == ro.ref:
            self._step(ro, current, result="ok", reason=f"{st.controller} committed {model} "
                       "before the stop reached it", state=FLASHED, after_model=model,
                       after_sha256=sha, finished_at=self._now())
        else:
            self._step(ro, current, result="stopped",
                       reason=f"{st.controller}'s flash was stopped; it runs {model or 'no model'}",
                       state=PENDING, after_model=None, after_sha256=None, started_at=None)

    def _settle(self, ro: Rollout, st: RolloutStep) -> None:
        """A step found ``flashing`` at a resume was interrupted mid-flash (the workstation
        stopped): the device says whether it took the version; it is never flashed again
        without that reading."""
        try:
            _, status = self.controllers.status(self.principal, target=st.endpoint)
        except PlantMLError as exc:
            self._step(ro, st, result="reconciled", reason=f"{st.controller} was interrupted "
                       f"mid-flash and cannot be read now ({exc}); it is read again before "
                       "any new flash", state=PENDING, started_at=None)
            return
        model, sha = model_of(status)
        if model == ro.ref:
            self._step(ro, st, result="reconciled", reason=f"{st.controller} was interrupted "
                       f"mid-flash; the device runs {model}, so it is not flashed again",
                       state=FLASHED, after_model=model, after_sha256=sha,
                       finished_at=self._now())
        else:
            self._step(ro, st, result="reconciled", reason=f"{st.controller} was interrupted "
                       f"mid-flash; the device still runs {model or 'no model'}",
                       state=PENDING, started_at=None)

    def _read_quietly(self, target: str, model: str | None,
                      sha: str | None) -> tuple[str | None, str | None]:
        try:
            _, status = self.controllers.status(self.principal, target=target)
        except PlantMLError as exc:
            log.warning("%s not read after its flash: %s", target, exc)
            return model, sha  # what it ran before: the flash client keeps the old model
        return model_of(status)

    # -- watching ---------------------------------------------------------------------
    def _observe(self, ro: Rollout, batch: int, steps: list[RolloutStep],
                 progress: ProgressFn, cancel: CancelToken) -> str:
        """Watch the controllers just flashed for ``observe_s``: returns the first halt
        reason, '' when the batch stayed healthy (then it is recorded as observed)."""
        names = [s.controller for s in steps]
        if steps:
            what = "the canary" if batch == 0 else f"batch {batch}"
            progress(self._fraction(ro), f"watching {what} for {ro.observe_s:g} s")
            deadline = self.clock.monotonic() + ro.observe_s
            first: dict[str, tuple[int, int]] = {}
            while True:
                for st in steps:
                    reason = self._look(ro, st, first)
                    if reason:
                        return reason
                left = deadline - self.clock.monotonic()
                if left <= 0:
                    break
                cancel.raise_if_cancelled()
                if self.lease.due():
                    self.ctx.write(self.lease.hold)
                self.sleep(min(self.poll_s, left))

        def body(s: Any) -> None:
            self.lease.hold(s)
            row = rollout_row(s, ro.id)
            row.observed_batch = batch
            row.updated_at = self._now()
            self.ctx.trail.append(
                s, user=self.principal.username, role=self.role, action="fleet.rollout.observe",
                obj=f"rollout:{ro.id}", result="ok",
                reason=f"batch {batch} healthy for {ro.observe_s:g} s" if steps else
                f"batch {batch}: nothing was flashed",
                new={"batch": batch, "controllers": names, "seconds": ro.observe_s})
        self.ctx.write(body)
        return ""

    def _look(self, ro: Rollout, st: RolloutStep, first: dict[str, tuple[int, int]]) -> str:
        """One look at a flashed controller; a halt reason or ''."""
        c = f"{st.controller} ({st.endpoint})"
        try:
            w = self.controllers.watch(self.principal, target=st.endpoint)
        except NotFound:
            return f"{c} runs no model any more"
        except PlantMLError as exc:
            return f"{c} was lost while it was watched: {exc}"
        model, sha = model_of(w.status)
        if sha != st.after_sha256:
            return f"{c} no longer runs {ro.ref}: it runs {model or 'no model'}"
        if w.status.state.name == "ERROR":
            return f"{c} reports an error: {w.status.reason or w.status.summary()}"
        if w.drift is not None and w.drift.level == "alarm":
            return f"{c} raised a drift alarm on {ro.ref}"
        # Invalid windows (dead, flat, clipped, non-finite) since the watch began: the
        # controller counts them among its inferences too (protocol 6, IR 344).
        n0, i0 = first.setdefault(st.controller, (w.live.inference_count, w.live.invalid_count))
        n, bad = w.live.inference_count - n0, w.live.invalid_count - i0
        if n >= MIN_WINDOWS and bad / n > ro.invalid_share:
            why = f"; latest: {w.invalid_reason}" if w.invalid_reason else ""
            return (f"{c}: {bad} of its last {n} windows were invalid input "
                    f"({bad / n:.0%}, more than {ro.invalid_share:.0%}){why}")
        return ""

    # -- records ----------------------------------------------------------------------
    def _step(self, ro: Rollout, st: RolloutStep, *, result: str, reason: str,
              **fields: Any) -> RolloutStep:
        """Change a step and audit it in one transaction, renewing the lease (LeaseLost,
        and nothing written, if another workstation holds it now)."""
        def body(s: Any) -> RolloutStep:
            self.lease.hold(s)
            row = step_row(s, ro.id, st.position)
            for key, value in fields.items():
                setattr(row, key, value)
            s.flush()
            rec = step_record(row)
            self.ctx.trail.append(s, user=self.principal.username, role=self.role,
                                  action="fleet.rollout.step", obj=f"rollout:{ro.id}",
                                  reason=reason, result=result, new=step_dict(rec))
            return rec
        return self.ctx.write(body)

    def _keep_alive(self, _fraction: float, _message: str) -> None:
        """A flash's progress report: renew the lease when it is due, so a long transfer
        keeps it; a lost lease cancels the batch (the device keeps its old model)."""
        if not self.lease.due():
            return
        try:
            self.ctx.write(self.lease.hold)
        except LeaseLost:
            self._halt.cancel()

    def _load(self, rollout_id: int) -> Rollout:
        with self.ctx.db.reader() as s:
            return rollout(s, rollout_id)

    def _fraction(self, ro: Rollout) -> float:
        done = sum(s.state in (FLASHED, SKIPPED) for s in ro.steps)
        return min(done / max(1, len(ro.steps)), 0.99)

    def _now(self) -> str:
        return self.ctx.clock.now().isoformat()

