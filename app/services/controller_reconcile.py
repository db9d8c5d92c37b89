"""What the workstation believes runs on each controller, and reconciling that belief with
what the device says (issue 15.8): a flash killed right after COMMIT leaves the audit saying
"deploy failed" while the controller runs the new model; the next scan, status or watch reads
the device and audits what is actually active (``controller.reconcile``, old and new belief),
so the view of "current model per controller" follows the device."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.audit.reading import AuditFilter, query_events
from app.core.principal import Principal
from app.devices.flash import ControllerClient, Security, Status
from app.devices.protocol.codes import ErrorCode
from app.devices.protocol.events import Event
from app.fieldbus import DeviceRefused
from app.services.base import ServiceContext

#: Audit actions that record what a controller runs after them.
BELIEF_ACTIONS = ("controller.deploy", "controller.rollback", "controller.reconcile")
#: How far back the belief is looked for (newest first).
LOOKBACK = 200


@dataclass(frozen=True)
class Belief:
    """The model the audit trail says runs at ``target`` (None: nothing, or never seen)."""

    target: str
    active: str | None
    active_sha256: str | None
    seq: int  # the audit event it comes from; 0 when the trail says nothing

    def as_dict(self) -> dict[str, Any]:
        return {"active": self.active, "active_sha256": self.active_sha256,
                "audit_seq": self.seq}


def _from_event(target: str, ev: Any) -> Belief | None:
    new = ev.new if isinstance(ev.new, dict) else {}
    if ev.action == "controller.reconcile":
        if ev.object != target:
            return None
        return Belief(target, new.get("active"), new.get("active_sha256"), ev.seq)
    if ev.action == "controller.rollback" and ev.object != target:
        return None
    if ev.action == "controller.deploy" and new.get("target") != target:
        return None
    device = new.get("device")
    if not isinstance(device, dict) or "active_sha256" not in device:
        return None  # failed before the device said anything: the belief is older
    return Belief(target, device.get("active"), device.get("active_sha256"), ev.seq)


def believed(ctx: ServiceContext, target: str) -> Belief:
    """The newest belief about ``target`` in the audit trail."""
    def read(s: Any) -> list[Any]:
        return query_events(s, AuditFilter(action="controller.", text=target, limit=LOOKBACK))
    with ctx.db.reader() as s:
        events = read(s)
    for ev in events:
        if ev.action in BELIEF_ACTIONS and (b := _from_event(target, ev)) is not None:
            return b
    return Belief(target, None, None, 0)


def reconcile(ctx: ServiceContext, principal: Principal, role: str, target: str,
              status: Status | None) -> Belief:
    """Compare the device's active model with the belief; on a difference audit
    ``controller.reconcile`` (old: the belief, new: the device) and return the new belief."""
    if status is None:
        return believed(ctx, target)
    old = believed(ctx, target)
    sha = status.active.sha256 if status.active else None
    now = Belief(target, str(status.active) if status.active else None, sha, old.seq)
    if old.seq and old.active_sha256 == sha:
        return old
    if not old.seq and sha is None:
        return now  # never flashed from here and runs nothing: nothing to reconcile
    reason = ("first seen by this workstation" if not old.seq else
              "the device runs another model than the audit trail says")
    ctx.audit_outcome(principal, role, "controller.reconcile", target, result="ok",
                      reason=reason, old=old.as_dict(),
                      new={"active": now.active, "active_sha256": sha,
                           "state": status.state.name.lower(),
                           "active_slot": status.active_slot})
    return believed(ctx, target)


def last_audited_event(ctx: ServiceContext, target: str) -> int:
    """The sequence number of the newest device event already audited for ``target``."""
    with ctx.db.reader() as s:
        events = query_events(s, AuditFilter(action="controller.device_event", text=target,
                                             limit=LOOKBACK))
    for ev in events:
        if ev.object == target and isinstance(ev.new, dict) and "seq" in ev.new:
            return int(ev.new["seq"])
    return 0


def audit_device_events(ctx: ServiceContext, principal: Principal, role: str, target: str,
                        client: ControllerClient) -> list[Event]:
    """Audit (``controller.device_event``) each event the device logged since the last one
    audited: activations, commits, rollbacks, reverts, boot fallbacks, including those no
    workstation asked for. A device whose log restarted (a new state folder) is read from 1.
    Returns the events audited now."""
    after = last_audited_event(ctx, target)
    events = client.events(after)
    if not events and after:
        head = client.events(0)
        if head and head[-1].seq < after:  # the log restarted: a wiped or replaced device
            events = head
    for e in events:
        ctx.audit_outcome(principal, role, "controller.device_event", target,
                          result=e.kind_name, reason=f"the controller logged event {e.seq}: "
                          f"{e.kind_name.replace('_', ' ')}",
                          new={"seq": e.seq, "kind": e.kind_name, "boot": e.boot,
                               "before": {"version": e.before_version,
                                          "sha256_prefix": e.before_sha or None},
                               "after": {"version": e.after_version,
                                         "sha256_prefix": e.after_sha or None}})
    return events


def last_audited_refusals(ctx: ServiceContext, target: str) -> int:
    """The device's refusal count at the newest ``controller.refused_commands`` audited for
    ``target`` (0: none audited yet)."""
    with ctx.db.reader() as s:
        events = query_events(s, AuditFilter(action="controller.refused_commands", text=target,
                                             limit=LOOKBACK))
    for ev in events:
        if ev.object == target and isinstance(ev.new, dict) and "refused_count" in ev.new:
            return int(ev.new["refused_count"])
    return 0


def audit_refusals(ctx: ServiceContext, principal: Principal, role: str, target: str,
                   client: ControllerClient, boot: int = 0) -> Security | None:
    """Audit (``controller.refused_commands``) the commands and chunks the device refused
    for their proof or session since the last look: any master's attempt to roll back,
    abort or begin without this workstation's signature shows in the trail. Returns the
    security block read (None from a device without one)."""
    try:
        sec = client.security()
    except DeviceRefused:
        return None
    before = last_audited_refusals(ctx, target)
    if sec.refused_count == before:
        return sec
    # A lower count: the device's refusal record restarted (a new state folder).
    new = sec.refused_count - before if sec.refused_count > before else sec.refused_count
    if new <= 0:
        return sec
    try:
        code = ErrorCode(sec.last_refusal_code).name.lower()
    except ValueError:
        code = str(sec.last_refusal_code)
    ctx.audit_outcome(principal, role, "controller.refused_commands", target, result="refused",
                      reason=f"the controller refused {new} unproven command(s) or chunk(s) "
                      f"since the last look; latest: {sec.last_refusal}",
                      new={"refused_count": sec.refused_count, "new": new, "boot": boot,
                           "last": {"code": code, "command": sec.last_refusal_command,
                                    "function": sec.last_refusal_function,
                                    "key_id": sec.last_refusal_key or None,
                                    "age_s": sec.last_refusal_age_s,
                                    "text": sec.last_refusal_text}})
    return sec
