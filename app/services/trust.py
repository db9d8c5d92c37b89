"""The workstation's trust store (keys allowed to sign packages, accepted release counters),
kept in the database so every change commits with its audit event."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy.orm import Session

from app.packages import TrustStore
from app.packages.trust import SIGNER_ROLES
from app.security.state import TRUST_SETTING
from app.store.schema import Setting, User, UserKey

SETTING_KEY = TRUST_SETTING


def load_trust(s: Session) -> TrustStore:
    """The current trust store (empty on a new workspace). Readers outside a write use
    ``ctx.checked_read(load_trust, ("trust",))``, so a store edited behind PlantML's back is
    refused; a write checks it when it commits (app/services/seal.py)."""
    row = s.get(Setting, SETTING_KEY)
    if row is None:
        return TrustStore()
    return TrustStore.from_dict(json.loads(row.value), "the workspace trust store")


def save_trust(s: Session, store: TrustStore) -> None:
    """Store ``store`` in the caller's transaction."""
    text = json.dumps(store.to_dict(), sort_keys=True)
    row = s.get(Setting, SETTING_KEY)
    if row is None:
        s.add(Setting(key=SETTING_KEY, value=text))
    else:
        row.value = text


def signer_roles(roles: frozenset[str] | set[str]) -> list[str]:
    """The roles among ``roles`` whose signatures packages count."""
    return [r for r in SIGNER_ROLES if r in roles]


def trust_user_key(s: Session, user: User, key: UserKey, roles: frozenset[str] | set[str],
                   now: datetime, *, rotate: bool) -> dict | None:
    """Trust a user's (new) signing key for their signer roles; with ``rotate`` their older
    keys are revoked. Returns what changed for the audit event, or None."""
    wanted = signer_roles(roles)
    if not wanted:
        return None
    store = load_trust(s)
    if rotate and store.active_keys(user.username):
        entry = store.rotate_key(user.username, key.public_key, now, roles=wanted)
    else:
        entry = store.add_key(key.public_key, user.username, wanted, now)
    save_trust(s, store)
    return {"trusted_key": entry.key_id, "roles": list(entry.roles), "rotated": rotate}


def retire_user_keys(s: Session, user: User, now: datetime) -> list[str]:
    """Retire every trusted key of ``user`` (after a password reset): packages they signed
    stay valid, nothing new from those keys is accepted. Returns the ids retired."""
    store = load_trust(s)
    ids = [k.key_id for k in store.active_keys(user.username)]
    for key_id in ids:
        store.retire_key(key_id, now)
    if ids:
        save_trust(s, store)
    return ids
