"""Where a trail must have signed checkpoints, so that removed checkpoints are noticed."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.store.schema import AuditEventRow

#: Events after which the head is always signed (an export, an approval or rejection, a
#: change of who may sign): a missing checkpoint at one of them was removed.
CHECKPOINTED_ACTIONS = ("audit.export", "model.approve", "security.state")
#: The largest checkpoint interval a workspace may use (the settings refuse more).
MAX_INTERVAL = 1000
INTERVAL_SETTING = "audit.checkpoint_interval"


@dataclass
class Expected:
    """Where checkpoints must be: at least one every ``interval`` events, one at every
    multiple of ``every`` (a multiple of each interval the trail was written with), and one
    at each sequence in ``at`` (events that always sign the head: exports, approvals,
    seals)."""

    interval: int
    every: int = 0
    at: set[int] = field(default_factory=set)


def expected_checkpoints(session: Session, current_interval: int) -> Expected:
    """Where the stored trail must have checkpoints: at every event of
    :data:`CHECKPOINTED_ACTIONS`; at least every N events, N being the largest interval the
    trail was written with (the setting now, and every value it was changed from or to, as
    the trail records them), never more than :data:`MAX_INTERVAL`; and at every multiple of
    all those intervals (a checkpoint under any of them)."""
    at = set(session.scalars(select(AuditEventRow.seq).where(
        AuditEventRow.action.in_(CHECKPOINTED_ACTIONS), AuditEventRow.result == "ok")))
    intervals = [int(current_interval)]
    changes = session.scalars(select(AuditEventRow.body).where(or_(
        (AuditEventRow.action == "settings.change")
        & (AuditEventRow.object == f"setting:{INTERVAL_SETTING}"),
        AuditEventRow.action == "workspace.create")))
    for body in changes:
        event = json.loads(body)
        for raw in (event.get("old"), event.get("new")):
            value = raw.get("checkpoint_interval") if isinstance(raw, dict) else raw
            if isinstance(value, int) and not isinstance(value, bool):
                intervals.append(value)
    return Expected(interval=min(max(intervals), MAX_INTERVAL),
                    every=math.lcm(*(max(1, i) for i in intervals)), at=at)
