"""The trusted-keys file: who may sign packages in which role, and the accepted counters."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.core.errors import Conflict, IntegrityError, NotFound, UsageError
from app.packages.errors import PackageRefused
from app.packages.manifest import MAX_COUNTER
from app.packages.timefmt import iso_utc
from app.store.durable import durable_write

log = logging.getLogger(__name__)

SIGNER_ROLES = ("engineer", "approver")
#: The role of a key that may sign controller commands (protocol 2: docs/controller-protocol.md
#: section 7): the role that deploys. It signs no package (check_signatures wants the signer
#: roles above).
COMMAND_ROLE = "operator"
KEY_ROLES = (*SIGNER_ROLES, COMMAND_ROLE)
_HEX = re.compile(r"[0-9a-f]+")


def key_id_for(public: Ed25519PublicKey | bytes) -> str:
    """First 16 hex digits of SHA-256 of the raw public key (as app.security.signing names it)."""
    raw = public if isinstance(public, bytes) else public.public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class TrustedKey:
    """One public key the workstation trusts, for one user and a set of signer roles."""

    key_id: str
    public_key: str
    user: str
    roles: tuple[str, ...]
    added_at: str
    revoked_at: str | None = None
    replaced_by: str | None = None
    #: Retired (its owner's password was reset): what it signed before stays valid, nothing
    #: signed after this time is accepted. Revocation, by contrast, voids every signature.
    retired_at: str | None = None

    @property
    def revoked(self) -> bool:
        """True once the key was revoked (by hand or by rotation); it then signs nothing."""
        return self.revoked_at is not None

    @property
    def retired(self) -> bool:
        """True once the key was retired; it signs nothing new."""
        return self.retired_at is not None

    def public(self) -> Ed25519PublicKey:
        """The key as a cryptography object."""
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(self.public_key))


def _key_from_dict(entry: object, source: str) -> TrustedKey:
    if not isinstance(entry, dict):
        raise IntegrityError(f"{source}: a key entry is not an object")
    try:
        key = TrustedKey(key_id=entry["key_id"], public_key=entry["public_key"],
                         user=entry["user"], roles=tuple(entry["roles"]),
                         added_at=entry["added_at"], revoked_at=entry.get("revoked_at"),
                         replaced_by=entry.get("replaced_by"),
                         retired_at=entry.get("retired_at"))
    except (KeyError, TypeError) as exc:
        raise IntegrityError(f"{source}: a key entry lacks {exc}") from exc
    pub = key.public_key
    # The id is derived from the key, so nobody can relabel a key by editing the file.
    if (not isinstance(pub, str) or len(pub) != 64 or not _HEX.fullmatch(pub)
            or key_id_for(bytes.fromhex(pub)) != key.key_id):
        raise IntegrityError(f"{source}: key {key.key_id!r} does not match its public key")
    if not isinstance(key.user, str) or not key.user or not set(key.roles) <= set(KEY_ROLES):
        raise IntegrityError(f"{source}: key {key.key_id!r} has a bad user or roles")
    return key


@dataclass
class TrustStore:
    """Trusted keys and, per model line, the highest release counter accepted so far."""

    keys: list[TrustedKey] = field(default_factory=list)
    counters: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, doc: object, source: str = "trust store") -> TrustStore:
        """Build a store from its JSON document; raises IntegrityError naming ``source``."""
        if not isinstance(doc, dict) or set(doc) != {"keys", "counters"}:
            raise IntegrityError(f"{source}: expected an object with keys and counters")
        if not isinstance(doc["keys"], list) or not isinstance(doc["counters"], dict):
            raise IntegrityError(f"{source}: keys must be a list and counters an object")
        keys = [_key_from_dict(entry, source) for entry in doc["keys"]]
        if len({k.key_id for k in keys}) != len(keys):
            raise IntegrityError(f"{source}: a key id appears twice")
        for name, value in doc["counters"].items():
            if (not isinstance(value, int) or isinstance(value, bool)
                    or not 0 <= value <= MAX_COUNTER):
                raise IntegrityError(f"{source}: counter of {name!r} is not a whole number "
                                     f"from 0 to {MAX_COUNTER}")
        return cls(keys=keys, counters=dict(doc["counters"]))

    @classmethod
    def load(cls, path: Path, *, missing_ok: bool = False) -> TrustStore:
        """Read the store from ``path``; an absent file is an empty store if ``missing_ok``."""
        path = Path(path)
        if missing_ok and not path.exists():
            return cls()
        try:
            doc = json.loads(path.read_bytes().decode("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise IntegrityError(f"the trust store {path} cannot be read: {exc}") from exc
        return cls.from_dict(doc, str(path))

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of docs/package-format.md."""
        keys = []
        for key in self.keys:
            entry = asdict(key)
            entry["roles"] = list(key.roles)
            if entry["retired_at"] is None:
                del entry["retired_at"]  # the document of stores without retired keys is unchanged
            keys.append(entry)
        return {"keys": keys, "counters": dict(sorted(self.counters.items()))}

    def save(self, path: Path) -> None:
        """Write the store durably (temp file, fsync, atomic replace)."""
        text = json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"
        durable_write(Path(path), text.encode("utf-8"))

    def key(self, key_id: str) -> TrustedKey | None:
        """The key with ``key_id``, revoked or not; None if the store does not hold it."""
        return next((k for k in self.keys if k.key_id == key_id), None)

    def active_keys(self, user: str | None = None) -> list[TrustedKey]:
        """Keys neither revoked nor retired, optionally only those of ``user``."""
        return [k for k in self.keys if not k.revoked and not k.retired
                and (user is None or k.user == user)]

    def add_key(self, public: Ed25519PublicKey | bytes, user: str, roles: tuple[str, ...] |
                list[str], now: datetime) -> TrustedKey:
        """Trust ``public`` for ``user`` in ``roles``; raises Conflict if it is already held."""
        raw = public if isinstance(public, bytes) else public.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        roles = tuple(dict.fromkeys(roles))
        if not user or not roles or not set(roles) <= set(KEY_ROLES):
            raise UsageError(f"a trusted key needs a user and roles among {KEY_ROLES}")
        if len(raw) != 32:
            raise UsageError("an Ed25519 public key is 32 bytes")
        key_id = key_id_for(raw)
        if self.key(key_id) is not None:
            raise Conflict(f"key {key_id} is already in the trust store")
        key = TrustedKey(key_id=key_id, public_key=raw.hex(), user=user, roles=roles,
                         added_at=iso_utc(now))
        self.keys.append(key)
        log.info("trusted key %s for %s as %s", key_id, user, ",".join(roles))
        return key

    def _replace(self, old: TrustedKey, new: TrustedKey) -> None:
        self.keys[self.keys.index(old)] = new

    def revoke_key(self, key_id: str, now: datetime,
                   replaced_by: str | None = None) -> TrustedKey:
        """Mark ``key_id`` revoked: every package it signed is refused from now on."""
        key = self.key(key_id)
        if key is None:
            raise NotFound(f"key {key_id} is not in the trust store")
        if key.revoked:
            raise Conflict(f"key {key_id} was already revoked at {key.revoked_at}")
        revoked = replace(key, revoked_at=iso_utc(now), replaced_by=replaced_by)
        self._replace(key, revoked)
        log.info("revoked key %s of %s", key_id, key.user)
        return revoked

    def retire_key(self, key_id: str, now: datetime) -> TrustedKey:
        """Stop ``key_id`` from signing anything new; its earlier signatures stay valid."""
        key = self.key(key_id)
        if key is None:
            raise NotFound(f"key {key_id} is not in the trust store")
        if key.revoked or key.retired:
            return key
        retired = replace(key, retired_at=iso_utc(now))
        self._replace(key, retired)
        log.info("retired key %s of %s", key_id, key.user)
        return retired

    def rotate_key(self, user: str, new_public: Ed25519PublicKey | bytes, now: datetime,
                   roles: tuple[str, ...] | list[str] | None = None) -> TrustedKey:
        """Trust a new key for ``user`` and revoke their active keys, pointing to the new one."""
        old = self.active_keys(user)
        if not old:
            raise NotFound(f"user {user!r} has no active key to rotate")
        if roles is None:
            roles = tuple(dict.fromkeys(r for k in old for r in k.roles))
        new = self.add_key(new_public, user, roles, now)
        for key in old:
            self.revoke_key(key.key_id, now, replaced_by=new.key_id)
        return new

    def counter(self, model_name: str) -> int | None:
        """Highest release counter accepted for ``model_name``; None if none was yet."""
        return self.counters.get(model_name)

    def accept_counter(self, model_name: str, counter: int) -> None:
        """Record ``counter`` as accepted; it only moves forward (call after every check)."""
        current = self.counters.get(model_name)
        if not 1 <= counter <= MAX_COUNTER:
            raise PackageRefused("counter", f"release counter of {model_name!r} must be at "
                                 f"most {MAX_COUNTER}")
        if current is not None and counter <= current:
            raise PackageRefused("counter", f"release counter {counter} of {model_name!r} is "
                                 f"not above the accepted {current}")
        self.counters[model_name] = counter
