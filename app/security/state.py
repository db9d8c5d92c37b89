"""The security state: everything that decides who may sign, reduced to digests that the audit
chain seals (the roles, the users' signing keys, the trust store, the integrity settings).

A change made through PlantML seals the new state in the same transaction; a change made
behind PlantML's back (SQL on the database file) no longer matches the latest seal.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.canonical import canonical_bytes
from app.store.schema import Setting, User, UserKey, UserRole

#: The settings row holding the workstation's trust store (app/services/trust.py).
TRUST_SETTING = "packages.trust_store"
#: Settings that weaken the trail or the sign-in when raised behind PlantML's back.
SEALED_SETTINGS = ("audit.checkpoint_interval", "security.max_failed_logins",
                   "security.recovery_code")
PARTS = ("roles", "keys", "trust", "settings")
#: What each part is called in a message.
PART_NAMES = {"roles": "roles", "keys": "signing keys", "trust": "trust store",
              "settings": "integrity settings"}


@dataclass(frozen=True)
class SecurityState:
    """Digests of each part, and the roles in clear (small, and readable in the trail)."""

    digests: dict[str, str]
    roles: tuple[tuple[str, str], ...]

    def differs(self, digests: dict[str, Any], parts: tuple[str, ...] = PARTS) -> list[str]:
        """The parts whose digest is not the one in ``digests``."""
        return [p for p in parts if self.digests.get(p) != digests.get(p)]


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical_bytes(value)).hexdigest()


def security_state(s: Session) -> SecurityState:
    """The security state as stored, flushed changes of the caller's transaction included
    (only column selects: values come from the database, never from ORM objects)."""
    roles = tuple(sorted((u, r) for u, r in s.execute(
        select(User.username, UserRole.role).join(UserRole, UserRole.user_id == User.id))))
    keys = sorted([key_id, user, public.hex(), hashlib.sha256(private).hexdigest(), revoked]
                  for key_id, user, public, private, revoked in s.execute(
                      select(UserKey.key_id, User.username, UserKey.public_key,
                             UserKey.private_key_enc, UserKey.revoked_at)
                      .join(User, User.id == UserKey.user_id)))
    # Column selects read the rows as stored, not ORM objects an unflushed change altered.
    rows = dict(s.execute(select(Setting.key, Setting.value).where(
        Setting.key.in_((TRUST_SETTING, *SEALED_SETTINGS)))).all())
    trust = json.loads(rows[TRUST_SETTING]) if TRUST_SETTING in rows else None
    settings = {k: json.loads(rows[k]) for k in SEALED_SETTINGS if k in rows}
    digests = {"roles": _digest([list(r) for r in roles]), "keys": _digest(keys),
               "trust": _digest(trust), "settings": _digest(settings)}
    return SecurityState(digests=digests, roles=roles)


def describe(parts: list[str]) -> str:
    """``parts`` for a message: "the roles and the trust store"."""
    names = [PART_NAMES[p] for p in parts]
    return "the " + (names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " +
                     names[-1])
