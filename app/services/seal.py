"""Sealing the security state into the audit chain, and refusing to trust a state that no
longer matches its seal (issue 15.2): who may sign cannot be changed by editing the database.

Every transaction that changes roles, signing keys, the trust store or an integrity setting
appends a ``security.state`` event with the new digests and signs the chain head at once,
so the seal rests on the audit key, not on the unkeyed chain alone. Before such a change,
and whenever the trust store is read or something is signed, the stored state must match
the latest seal.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.audit.chain import chain_hash
from app.audit.checkpoints import checkpoint_valid
from app.audit.keyring import trusted_ring
from app.audit.trail import AuditTrail
from app.core.errors import SecurityStateTampered
from app.core.records import Checkpoint
from app.security.state import (
    PARTS,
    SEALED_SETTINGS,
    TRUST_SETTING,
    SecurityState,
    describe,
    security_state,
)
from app.store.schema import AuditCheckpointRow, AuditEventRow, Setting, UserKey, UserRole

ACTION = "security.state"


@dataclass(frozen=True)
class Seal:
    """The latest seal: where it is in the trail and the digests it vouches for."""

    seq: int
    digests: dict[str, str]
    roles: tuple[tuple[str, str], ...]


class SealKeeper:
    """Reads, checks and writes seals of one workspace's security state."""

    def __init__(self, trail: AuditTrail) -> None:
        self.trail = trail

    def latest(self, s: Session) -> Seal | None:
        """The newest seal, checked against its signed checkpoint; None if there is none.

        Raises SecurityStateTampered if the newest seal event is not exactly the one a
        checkpoint signed by a trusted audit key (this workstation's or, on a shared registry,
        another registered workstation's) vouches for.
        """
        row = s.execute(select(AuditEventRow.seq, AuditEventRow.body, AuditEventRow.prev_hash,
                               AuditEventRow.hash).where(AuditEventRow.action == ACTION)
                        .order_by(AuditEventRow.seq.desc()).limit(1)).first()
        if row is None:
            return None
        seq, body, prev, digest = row
        cp_row = s.get(AuditCheckpointRow, seq)
        cp = None if cp_row is None else Checkpoint(
            seq=cp_row.seq, head_hash=cp_row.head_hash, ts=cp_row.ts,
            workstation=cp_row.workstation, key_id=cp_row.key_id, signature=cp_row.signature)
        # On a shared registry the seal may carry another workstation's checkpoint: any key
        # the registry lists and the trail registers counts.
        public = None
        if cp is not None:
            public = (self.trail.key.public if cp.key_id == self.trail.key.key_id
                      else trusted_ring(s, self.trail.key.public)[0].get(cp.key_id))
        if (chain_hash(seq, prev, body) != digest or cp is None or cp.head_hash != digest
                or public is None or not checkpoint_valid(cp, public)):
            raise SecurityStateTampered(
                f"the seal of the security state (audit event {seq}) is not the one its signed "
                "checkpoint vouches for: the trail was edited", PARTS)
        new = json.loads(body).get("new") or {}
        return Seal(seq=seq, digests=dict(new.get("digests", {})),
                    roles=tuple(tuple(r) for r in new.get("roles", [])))

    def check(self, s: Session, parts: tuple[str, ...] = PARTS,
              state: SecurityState | None = None) -> Seal:
        """Raise SecurityStateTampered unless the stored state (or ``state``) matches the
        latest seal in ``parts``."""
        seal = self.latest(s)
        if seal is None:
            raise SecurityStateTampered("the security state has no seal in the audit trail "
                                        "(its seal events were removed)", parts)
        state = state or security_state(s)
        wrong = state.differs(seal.digests, parts)
        if wrong:
            raise SecurityStateTampered(
                f"{describe(wrong)} in the database differ from what the audit trail sealed at "
                f"event {seal.seq}: they were changed outside PlantML. Nothing that depends on "
                "them is trusted until an administrator restores a backup or reviews and "
                "reseals them", tuple(wrong))
        return seal

    def record(self, s: Session, state: SecurityState, *, changed: list[str], reason: str,
               user: str = "system", role: str = "") -> None:
        """Append the seal of ``state`` and sign the chain head (in the caller's
        transaction)."""
        self.trail.append(s, user=user, role=role, action=ACTION, obj="security-state",
                          new={"digests": state.digests, "roles": [list(r) for r in
                                                                   state.roles],
                               "changed": changed}, reason=reason)
        self.trail.checkpoint(s)

    def after_change(self, s: Session, before: SecurityState) -> None:
        """Seal the state if the transaction changed it; the state it started from must have
        been the sealed one, so a change through PlantML never launders an edit behind it."""
        after = security_state(s)
        changed = after.differs(before.digests)
        if not changed:
            return
        self.check(s, PARTS, before)
        user, role, action, obj = s.info.get("last_event", ("system", "", "", ""))
        self.record(s, after, changed=changed, user=user, role=role,
                    reason=f"{describe(changed)} changed by {action} {obj}".strip())


def _touches_state(obj: object) -> bool:
    if isinstance(obj, UserRole | UserKey):
        return True
    return isinstance(obj, Setting) and obj.key in (TRUST_SETTING, *SEALED_SETTINGS)


class StateWatch:
    """Captures the security state just before a transaction first flushes a change to it,
    so transactions that do not touch it (nearly all) pay nothing for the seal."""

    def __init__(self, session: Session) -> None:
        self.before: SecurityState | None = None
        event.listen(session, "before_flush", self._before_flush)

    def _before_flush(self, session: Session, _context, _instances) -> None:
        if self.before is not None:
            return
        if any(_touches_state(o) for o in (*session.new, *session.dirty, *session.deleted)):
            with session.no_autoflush:
                self.before = security_state(session)
