"""Who runs a roll-out on a shared registry: a lease in the roll-out's row (owner workstation,
claim token, expiry), claimed by a conditional UPDATE so exactly one claimant wins, renewed
while the runner runs and released at its end; another workstation may go on once it has
expired, or by an audited take-over (docs/fleet.md)."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlalchemy import CursorResult, Update, or_, select, update
from sqlalchemy.orm import Session

from app.core.clock import Clock
from app.core.errors import Conflict, NotFound
from app.store.schema import RolloutRow

#: How long a claim holds without renewal. The runner renews it at every step, batch, watch
#: poll and flash progress report, so only a workstation that died or hangs lets it lapse.
LEASE_S = 120.0


class LeaseLost(Conflict):
    """This runner's lease is gone (expired and claimed, or taken over): it must stop."""


@dataclass(frozen=True)
class Holder:
    """Who held a roll-out's lease when it was claimed over them."""

    workstation: str
    until: str


def stamp(moment: datetime) -> str:
    """A lease time as stored: UTC ISO 8601 with microseconds, always the same width, so
    the registry compares them as text on SQLite and PostgreSQL alike."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def shown(stored: str) -> str:
    """A stored lease time for a message: local time to the second, with its offset."""
    return datetime.fromisoformat(stored).astimezone().isoformat(sep=" ", timespec="seconds")


class Lease:
    """One runner's claim on one roll-out; ``token`` tells it apart from any other run, on
    this workstation or another."""

    def __init__(self, rollout_id: int, workstation: str, clock: Clock,
                 seconds: float = LEASE_S) -> None:
        self.rollout_id, self.workstation = rollout_id, workstation
        self.clock, self.seconds = clock, float(seconds)
        self.token = uuid.uuid4().hex
        self._renewed = -1e18
        self._lock = threading.Lock()

    def _until(self) -> str:
        return stamp(self.clock.now() + timedelta(seconds=self.seconds))

    def claim(self, s: Session, *, take_over: bool = False) -> Holder | None:
        """Take the lease in the caller's transaction: free or expired, or, with
        ``take_over``, from whoever holds it. Returns the holder taken over (None if the
        lease was free or had lapsed); raises Conflict naming the owner and when its lease
        ends if another run holds a live one."""
        now = stamp(self.clock.now())
        held = s.execute(select(RolloutRow.lease_owner, RolloutRow.lease_token,
                                RolloutRow.lease_until).where(
            RolloutRow.id == self.rollout_id)).one_or_none()
        if held is None:
            raise NotFound(f"there is no roll-out {self.rollout_id}")
        live = held.lease_token is not None and (held.lease_until or "") > now
        if live and not take_over:
            raise Conflict(self.refusal(held.lease_owner, held.lease_until))
        # Conditional: only if the lease is still as read (free, lapsed, or the holder
        # being taken over), so of two claimants in flight exactly one matches.
        seen = RolloutRow.lease_token.is_(None) if held.lease_token is None \
            else RolloutRow.lease_token == held.lease_token
        cond = seen if take_over else or_(RolloutRow.lease_token.is_(None),
                                          RolloutRow.lease_until <= now)
        won = _changed(s, update(RolloutRow).where(RolloutRow.id == self.rollout_id, cond)
                        .values(lease_owner=self.workstation, lease_token=self.token,
                                lease_until=self._until()))
        if won != 1:
            again = s.execute(select(RolloutRow.lease_owner, RolloutRow.lease_until).where(
                RolloutRow.id == self.rollout_id)).one()
            raise Conflict(self.refusal(again.lease_owner, again.lease_until))
        with self._lock:
            self._renewed = self.clock.monotonic()
        return Holder(held.lease_owner, held.lease_until) if live else None

    def refusal(self, owner: str | None, until: str | None) -> str:
        """The one sentence a claimant hears while another run holds the lease."""
        return (f"roll-out {self.rollout_id} is being run by workstation {owner}, whose lease "
                f"ends at {shown(until) if until else 'once it stops'}; resume it there, after "
                "that time, or take it over (--take-over, with a reason)")

    def hold(self, s: Session) -> None:
        """Renew the lease in the caller's transaction (a step or batch being written);
        raises LeaseLost, so nothing of that transaction is kept, if another run has it."""
        renewed = _changed(s, update(RolloutRow).where(
            RolloutRow.id == self.rollout_id, RolloutRow.lease_token == self.token)
            .values(lease_until=self._until()))
        if renewed != 1:
            now = s.execute(select(RolloutRow.lease_owner).where(
                RolloutRow.id == self.rollout_id)).scalar()
            raise LeaseLost(
                f"roll-out {self.rollout_id} was taken over by workstation {now}; this "
                "workstation stopped running it" if now else
                f"roll-out {self.rollout_id} was taken over by another workstation while "
                "this one ran it; this workstation stopped running it")
        with self._lock:
            self._renewed = self.clock.monotonic()

    def due(self) -> bool:
        """True when a quarter of the lease has passed since it was last renewed."""
        with self._lock:
            return self.clock.monotonic() - self._renewed >= self.seconds / 4

    def release(self, s: Session) -> None:
        """Give the lease up (the run ended); a lease another run holds is left alone."""
        _changed(s, update(RolloutRow).where(RolloutRow.id == self.rollout_id,
                                             RolloutRow.lease_token == self.token)
                 .values(lease_owner=None, lease_token=None, lease_until=None))


def _changed(s: Session, stmt: Update) -> int:
    """Run a conditional UPDATE; how many rows matched (the database decides, under the
    write transaction's lock, so one of two claimants in flight gets 0)."""
    result = s.execute(stmt.execution_options(synchronize_session=False))
    return int(cast(CursorResult, result).rowcount)
