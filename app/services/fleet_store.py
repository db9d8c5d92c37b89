"""The fleet's rows in the registry: inventory, roll-outs and steps, read as core records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import NotFound
from app.core.fleet import FleetController, Rollout, RolloutStep
from app.store.schema import FleetControllerRow, RolloutRow, RolloutStepRow


def controller_record(row: FleetControllerRow) -> FleetController:
    return FleetController(name=row.name, endpoint=row.endpoint, hardware_id=row.hardware_id,
                           line=row.line, location=row.location, group=row.group_name,
                           added_at=row.added_at, added_by=row.added_by)


def controller_dict(c: FleetController) -> dict[str, Any]:
    """What the audit trail records of an inventory entry."""
    return {"name": c.name, "endpoint": c.endpoint, "hardware_id": c.hardware_id,
            "line": c.line, "location": c.location, "group": c.group}


def controller_row(s: Session, name: str) -> FleetControllerRow:
    row = s.scalar(select(FleetControllerRow).where(FleetControllerRow.name == name))
    if row is None:
        raise NotFound(f"there is no controller named {name!r} in the inventory")
    return row


def controllers(s: Session, group: str | None = None) -> list[FleetController]:
    stmt = select(FleetControllerRow).order_by(FleetControllerRow.group_name,
                                               FleetControllerRow.name)
    if group is not None:
        stmt = stmt.where(FleetControllerRow.group_name == group)
    return [controller_record(r) for r in s.scalars(stmt)]


def step_record(row: RolloutStepRow) -> RolloutStep:
    return RolloutStep(position=row.position, batch=row.batch, controller=row.controller,
                       endpoint=row.endpoint, state=row.state, before_model=row.before_model,
                       before_sha256=row.before_sha256, after_model=row.after_model,
                       after_sha256=row.after_sha256, error=row.error,
                       started_at=row.started_at, finished_at=row.finished_at)


def step_dict(step: RolloutStep) -> dict[str, Any]:
    """What the audit trail records of a step."""
    return {"position": step.position, "batch": step.batch, "controller": step.controller,
            "endpoint": step.endpoint, "state": step.state, "before": step.before_model,
            "before_sha256": step.before_sha256, "after": step.after_model,
            "after_sha256": step.after_sha256, "error": step.error or None}


def rollout_row(s: Session, rollout_id: int) -> RolloutRow:
    row = s.get(RolloutRow, rollout_id)
    if row is None:
        raise NotFound(f"there is no roll-out {rollout_id}")
    return row


def rollout_record(s: Session, row: RolloutRow) -> Rollout:
    steps = s.scalars(select(RolloutStepRow).where(RolloutStepRow.rollout_id == row.id)
                      .order_by(RolloutStepRow.position))
    return Rollout(id=row.id, ref=row.ref, group=row.group_name, canary=row.canary,
                   batch_size=row.batch_size, parallel=row.parallel, observe_s=row.observe_s,
                   invalid_share=row.invalid_share, state=row.state,
                   observed_batch=row.observed_batch, reason=row.reason,
                   workstation=row.workstation, created_at=row.created_at,
                   created_by=row.created_by, updated_at=row.updated_at,
                   steps=tuple(step_record(r) for r in steps), owner=row.lease_owner,
                   lease_until=row.lease_until)


def rollout(s: Session, rollout_id: int) -> Rollout:
    return rollout_record(s, rollout_row(s, rollout_id))


def rollouts(s: Session, limit: int = 50) -> list[Rollout]:
    rows = s.scalars(select(RolloutRow).order_by(RolloutRow.id.desc()).limit(limit))
    return [rollout_record(s, r) for r in rows]


def step_row(s: Session, rollout_id: int, position: int) -> RolloutStepRow:
    row = s.scalar(select(RolloutStepRow).where(RolloutStepRow.rollout_id == rollout_id,
                                                RolloutStepRow.position == position))
    if row is None:
        raise NotFound(f"roll-out {rollout_id} has no step {position}")
    return row


def busy_controllers(s: Session, exclude: int | None = None) -> dict[str, int]:
    """Controller name -> the roll-out still running it (state ``running``)."""
    stmt = select(RolloutStepRow.controller, RolloutRow.id).join(
        RolloutRow, RolloutRow.id == RolloutStepRow.rollout_id).where(
        RolloutRow.state == "running")
    return {name: rid for name, rid in s.execute(stmt) if rid != exclude}
