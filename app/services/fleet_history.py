"""A controller's deployment history, read from the audit trail's controller events."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.audit.reading import AuditFilter, query_events
from app.core.fleet import Deployment


def deployment_history(s: Session, target: str, limit: int = 200) -> list[Deployment]:
    """The deploys, roll-backs and reconciliations of the controller at ``target``, as the
    audit trail recorded them (its order); other controller events are left out."""
    events = query_events(s, AuditFilter(action="controller.", text=target, limit=limit))
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
