"""Per-user Ed25519 signing keys and electronic signatures bound to a record's hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.canonical import canonical_bytes
from app.core.errors import AuthenticationError, IntegrityError, NotFound
from app.core.records import Signature
from app.store.schema import SignatureRow, User, UserKey

PURPOSE = "plantml-esignature-v1"
MEANINGS = ("approved", "rejected", "reviewed", "authored", "released")


@dataclass(frozen=True)
class SignRequest:
    """What is being signed: the record, its hash, the meaning and the reason."""

    record_type: str
    record_id: str
    record_hash: str
    meaning: str
    reason: str


def _key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def create_user_key(session: Session, user: User, password: str, now: datetime) -> UserKey:
    """Make a new signing key for ``user``, its private half encrypted with ``password``."""
    private = Ed25519PrivateKey.generate()
    raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    enc = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(password.encode("utf-8")))
    key = UserKey(key_id=_key_id(raw), user_id=user.id, public_key=raw, private_key_enc=enc,
                  created_at=now.isoformat(), revoked_at=None)
    session.add(key)
    session.flush()
    return key


def active_key(session: Session, user: User) -> UserKey:
    """The user's current signing key; raises NotFound if there is none."""
    key = session.scalar(select(UserKey).where(UserKey.user_id == user.id,
                                               UserKey.revoked_at.is_(None))
                         .order_by(UserKey.created_at.desc()).limit(1))
    if key is None:
        raise NotFound(f"user {user.username!r} has no signing key")
    return key


def reencrypt_key(key: UserKey, old_password: str, new_password: str) -> None:
    """Re-encrypt the private half after the owner changed their own password."""
    private = _unlock(key, old_password)
    key.private_key_enc = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(new_password.encode("utf-8")))


def revoke_keys(session: Session, user: User, now: datetime) -> None:
    """Revoke every active key of ``user`` (after an administrator reset their password)."""
    for key in session.scalars(select(UserKey).where(UserKey.user_id == user.id,
                                                     UserKey.revoked_at.is_(None))):
        key.revoked_at = now.isoformat()


def unlock_private_key(session: Session, user: User, password: str
                       ) -> tuple[UserKey, Ed25519PrivateKey]:
    """The user's active key and its private half, unlocked by their password (which the
    caller has just checked against the account)."""
    key = active_key(session, user)
    return key, _unlock(key, password)


def _unlock(key: UserKey, password: str) -> Ed25519PrivateKey:
    try:
        private = serialization.load_pem_private_key(key.private_key_enc,
                                                     password=password.encode("utf-8"))
    except (ValueError, TypeError) as exc:
        raise AuthenticationError("the password does not unlock the signing key") from exc
    assert isinstance(private, Ed25519PrivateKey)
    return private


def _message(user: User, key_id: str, req: SignRequest, signed_at: str) -> bytes:
    return canonical_bytes({"purpose": PURPOSE, "user": user.username, "user_id": user.id,
                            "key_id": key_id, "meaning": req.meaning, "reason": req.reason,
                            "record_type": req.record_type, "record_id": req.record_id,
                            "record_hash": req.record_hash, "signed_at": signed_at})


def sign(session: Session, user: User, password: str, req: SignRequest,
         now: datetime) -> Signature:
    """Sign ``req`` with the user's key, unlocked by the password they just re-entered.

    The caller has already checked the password against the account (and counted failures).
    """
    key = active_key(session, user)
    private = _unlock(key, password)
    signed_at = now.isoformat()
    sig = private.sign(_message(user, key.key_id, req, signed_at)).hex()
    row = SignatureRow(user_id=user.id, key_id=key.key_id, meaning=req.meaning,
                       reason=req.reason, record_type=req.record_type, record_id=req.record_id,
                       record_hash=req.record_hash, signed_at=signed_at, signature=sig)
    session.add(row)
    session.flush()
    return _to_record(row, user)


def verify(session: Session, signature_id: int, record_type: str, record_id: str,
           record_hash: str) -> Signature:
    """Check that signature ``signature_id`` is valid and belongs to exactly this record.

    Raises :class:`IntegrityError` naming what does not match.
    """
    row = session.get(SignatureRow, signature_id)
    if row is None:
        raise NotFound(f"there is no signature {signature_id}")
    user = session.get(User, row.user_id)
    key = session.get(UserKey, row.key_id)
    if user is None or key is None or key.user_id != user.id:
        raise IntegrityError(f"signature {signature_id}: signer or key does not exist")
    if (row.record_type, row.record_id, row.record_hash) != (record_type, record_id,
                                                             record_hash):
        raise IntegrityError(f"signature {signature_id} was made for another record")
    req = SignRequest(record_type=row.record_type, record_id=row.record_id,
                      record_hash=row.record_hash, meaning=row.meaning, reason=row.reason)
    try:
        Ed25519PublicKey.from_public_bytes(key.public_key).verify(
            bytes.fromhex(row.signature), _message(user, key.key_id, req, row.signed_at))
    except (InvalidSignature, ValueError) as exc:
        raise IntegrityError(f"signature {signature_id} does not verify: the signed content "
                             "was changed") from exc
    if key.revoked_at is not None and key.revoked_at < row.signed_at:
        raise IntegrityError(f"signature {signature_id} was made with a revoked key")
    return _to_record(row, user)


def _to_record(row: SignatureRow, user: User) -> Signature:
    return Signature(signature_id=row.id, username=user.username, meaning=row.meaning,
                     reason=row.reason, record_type=row.record_type, record_id=row.record_id,
                     record_hash=row.record_hash, signed_at=row.signed_at, key_id=row.key_id,
                     signature=row.signature)
