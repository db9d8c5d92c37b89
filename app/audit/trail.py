"""Appending to the audit trail inside the caller's transaction, with checkpoints and
clock-jump detection."""

from __future__ import annotations

import logging
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.chain import GENESIS, chain_hash, event_body, to_event
from app.audit.checkpoints import make_checkpoint, store_checkpoint, write_latest_file
from app.audit.keys import AuditKey
from app.core.clock import Clock
from app.core.records import AuditEvent, Checkpoint
from app.store.engine import lock_chain
from app.store.schema import AuditEventRow

log = logging.getLogger(__name__)

#: A wall clock that drifts from the monotonic clock by more than this is reported.
CLOCK_JUMP_SECONDS = 300.0


def default_workstation() -> str:
    """This computer's network name."""
    return socket.gethostname() or "unknown-workstation"


class AuditTrail:
    """Writes audit events; one instance per open workspace."""

    def __init__(self, key: AuditKey, *, clock: Clock, workstation: str,
                 checkpoint_interval: int, latest_file: Path) -> None:
        self.key = key
        self.clock = clock
        self.workstation = workstation
        self.checkpoint_interval = max(1, int(checkpoint_interval))
        self.latest_file = latest_file
        self._anchor: tuple[datetime, float] | None = None

    def append(self, session: Session, *, user: str, role: str, action: str, obj: str = "",
               old: Any = None, new: Any = None, reason: str = "",
               result: str = "ok") -> AuditEvent:
        """Append one event in ``session``'s transaction; the caller commits.

        If the caller's transaction rolls back, the event disappears with the change.
        """
        seq, prev = self._head(session)
        now = self.clock.now()
        jump = self._clock_jump(now, session, seq)
        if jump is not None:
            marker = self._write(session, seq + 1, prev, now, "system", "", "clock.jump",
                                 "system-clock", jump[0], jump[1],
                                 "wall clock moved against the monotonic clock", "detected")
            seq, prev = marker.seq, marker.hash
        return self._write(session, seq + 1, prev, now, user, role, action, obj, old, new,
                           reason, result)

    def checkpoint(self, session: Session) -> Checkpoint:
        """Sign the current head now (at an export or an approval)."""
        seq, head = self._head(session)
        cp = make_checkpoint(self.key, seq, head, self.clock.now().isoformat(), self.workstation)
        store_checkpoint(session, cp)
        self._after_commit(session, cp)
        return cp

    def _write(self, session: Session, seq: int, prev: str, now: datetime, user: str,
               role: str, action: str, obj: str, old: Any, new: Any, reason: str,
               result: str) -> AuditEvent:
        body = event_body(ts=now, user=user, role=role, workstation=self.workstation,
                          action=action, obj=obj, old=old, new=new, reason=reason, result=result)
        digest = chain_hash(seq, prev, body)
        session.add(AuditEventRow(seq=seq, body=body, prev_hash=prev, hash=digest))
        session.flush()
        # Who acted last in this transaction: a seal of the security state names them.
        session.info["last_event"] = (user, role, action, obj)
        if seq % self.checkpoint_interval == 0:
            cp = make_checkpoint(self.key, seq, digest, now.isoformat(), self.workstation)
            store_checkpoint(session, cp)
            self._after_commit(session, cp)
        return to_event(seq, body, prev, digest)

    def _after_commit(self, session: Session, cp: Checkpoint) -> None:
        session.info.setdefault("after_commit", []).append(
            lambda: write_latest_file(self.latest_file, cp))

    @staticmethod
    def _head(session: Session) -> tuple[int, str]:
        # Several workstations append to one chain: the head is read under the chain lock
        # held to the commit, so no two events get one sequence number (the primary key
        # would refuse the second anyway).
        lock_chain(session)
        row = session.execute(
            select(AuditEventRow.seq, AuditEventRow.hash).order_by(AuditEventRow.seq.desc())
            .limit(1)).first()
        return (0, GENESIS) if row is None else (row[0], row[1])

    def _clock_jump(self, now: datetime, session: Session,
                    last_seq: int) -> tuple[str, str] | None:
        mono = self.clock.monotonic()
        anchor = self._anchor
        self._anchor = (now, mono)
        if anchor is None:
            # First event of this process: compare with the newest stored event instead.
            if last_seq == 0:
                return None
            last = session.get(AuditEventRow, last_seq)
            if last is None or last.ts is None:
                return None
            previous = datetime.fromisoformat(last.ts)
            if (previous - now).total_seconds() > CLOCK_JUMP_SECONDS:
                return previous.isoformat(), now.isoformat()
            return None
        expected = anchor[0].timestamp() + (mono - anchor[1])
        if abs(now.timestamp() - expected) > CLOCK_JUMP_SECONDS:
            return datetime.fromtimestamp(expected, now.tzinfo).isoformat(), now.isoformat()
        return None
