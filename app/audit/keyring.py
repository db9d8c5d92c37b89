"""The audit keys a registry's checkpoints may be signed with: each workstation signs with its
own key, listed in the append-only audit_keys table by the same transaction as the trail event
that registers it, so a key slipped into the table alone is refused."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.keys import AuditKey, fingerprint_of, key_id_of, load_public_pem
from app.core.errors import IntegrityError
from app.store.schema import AuditEventRow, AuditKeyRow

#: The event that lists a workstation's key (the first workstation's key is named by
#: ``workspace.create`` instead).
REGISTER_ACTION = "audit.key.register"


@dataclass(frozen=True)
class KeyRing:
    """Public audit keys by key id; ``primary`` is this workstation's (or the pinned) key."""

    keys: Mapping[str, Ed25519PublicKey]
    primary: str
    workstations: Mapping[str, str] = field(default_factory=dict)
    #: Whose keys these are, for messages: "registry's", "export's", "pinned".
    label: str = "registry's"

    @classmethod
    def single(cls, public: Ed25519PublicKey) -> KeyRing:
        """A ring of one key (a single workstation, an export)."""
        key_id = key_id_of(public)
        return cls({key_id: public}, key_id)

    def get(self, key_id: str) -> Ed25519PublicKey | None:
        """The public key with ``key_id``, if trusted."""
        return self.keys.get(key_id)

    def describe(self) -> str:
        """The keys for a message: "the audit key ID" or "any of the registry's audit keys
        A, B" (pinned keys are called so even when there is one)."""
        if len(self.keys) == 1:
            only = next(iter(self.keys))
            return f"the pinned audit key {only}" if self.label == "pinned" else \
                f"the audit key {only}"
        return f"any of the {self.label} audit keys " + ", ".join(sorted(self.keys))


def as_ring(keys: Ed25519PublicKey | KeyRing) -> KeyRing:
    """``keys`` as a ring (a bare public key is a ring of one)."""
    return keys if isinstance(keys, KeyRing) else KeyRing.single(keys)


def register_key(session: Session, key: AuditKey, workstation: str, now: str) -> bool:
    """List this workstation's key in the registry (caller's transaction); True if it was
    not listed yet, so the caller writes the registration event in the same transaction."""
    row = session.get(AuditKeyRow, key.key_id)
    if row is not None:
        listed = load_public_pem(row.public_key, f"audit key {row.key_id} in the registry")
        if fingerprint_of(listed) != fingerprint_of(key.public):
            raise IntegrityError(f"the registry lists another public key under this "
                                 f"workstation's audit key id {key.key_id}")
        return False
    session.add(AuditKeyRow(key_id=key.key_id, workstation=workstation,
                            public_key=key.public_pem(), registered_at=now))
    return True


def registration(key: AuditKey, workstation: str) -> dict:
    """What the registration event records (``new``)."""
    return {"key_id": key.key_id, "fingerprint": fingerprint_of(key.public),
            "workstation": workstation}


def trusted_ring(session: Session, primary: Ed25519PublicKey) -> tuple[KeyRing, str]:
    """The keys checkpoints may carry: ``primary`` (this workstation's or the pinned key) and
    every other listed key whose registration is in the trail. The second value names the
    first listed key that is not registered (or does not match its id), else is empty."""
    registered = _registered(session)
    keys: dict[str, Ed25519PublicKey] = {key_id_of(primary): primary}
    names: dict[str, str] = {}
    for row in session.scalars(select(AuditKeyRow).order_by(AuditKeyRow.registered_at)):
        names[row.key_id] = row.workstation
        try:
            public = load_public_pem(row.public_key, f"audit key {row.key_id}")
        except IntegrityError as exc:
            return KeyRing(keys, key_id_of(primary), names), str(exc)
        if key_id_of(public) != row.key_id:
            return KeyRing(keys, key_id_of(primary), names), (
                f"the registry lists audit key {row.key_id} ({row.workstation}) with a public "
                "key of another id: the list of audit keys was edited outside PlantML")
        wanted = registered.get(row.key_id)
        if wanted is None or wanted not in ("", fingerprint_of(public)):
            return KeyRing(keys, key_id_of(primary), names), (
                f"audit key {row.key_id} ({row.workstation}) is listed in the registry but no "
                "event of the trail registers it: it was added outside PlantML")
        keys.setdefault(row.key_id, public)
    return KeyRing(keys, key_id_of(primary), names), ""


def _registered(session: Session) -> dict[str, str]:
    """Key id -> fingerprint ("" when only the id is recorded) of every key the trail
    registers: the first workstation's by workspace.create, the others by their event."""
    out: dict[str, str] = {}
    bodies = session.scalars(select(AuditEventRow.body).where(
        AuditEventRow.action.in_(("workspace.create", REGISTER_ACTION)),
        AuditEventRow.result == "ok"))
    for body in bodies:
        new = json.loads(body).get("new")
        if not isinstance(new, dict):
            continue
        key_id = new.get("key_id") or new.get("audit_key")
        if isinstance(key_id, str):
            out.setdefault(key_id, str(new.get("fingerprint", "")))
    return out
