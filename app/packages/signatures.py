"""Package signatures: signing a manifest body and checking the engineer + approver threshold."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.core.canonical import canonical_bytes
from app.core.errors import UsageError
from app.packages.errors import PackageRefused
from app.packages.manifest import body_sha256
from app.packages.timefmt import iso_utc, parse_utc
from app.packages.trust import TrustStore, key_id_for

log = logging.getLogger(__name__)

#: The meaning each signer role must state; a package needs one of each role.
MEANING_OF_ROLE = {"engineer": "released", "approver": "approved"}
_FIELDS = frozenset({"role", "user", "key_id", "meaning", "signed_at", "signature"})
_SIG_HEX = re.compile(r"[0-9a-f]{128}")


def signed_message(body_hash: str, role: str, user: str, key_id: str, meaning: str,
                   signed_at: str) -> bytes:
    """The exact bytes an Ed25519 package signature covers."""
    return canonical_bytes({"body_sha256": body_hash, "role": role, "user": user,
                            "key_id": key_id, "meaning": meaning, "signed_at": signed_at})


def sign_body(body: Mapping[str, Any], private_key: Ed25519PrivateKey, role: str, user: str,
              meaning: str, signed_at: datetime) -> dict[str, str]:
    """Sign ``body`` as ``user`` in ``role``; returns the SIG entry for the manifest."""
    if MEANING_OF_ROLE.get(role) != meaning:
        raise UsageError(f"a {role!r} signature on a package must mean "
                         f"{MEANING_OF_ROLE.get(role, 'nothing')!r}, not {meaning!r}")
    key_id = key_id_for(private_key.public_key())
    when = iso_utc(signed_at)
    message = signed_message(body_sha256(body), role, user, key_id, meaning, when)
    return {"role": role, "user": user, "key_id": key_id, "meaning": meaning,
            "signed_at": when, "signature": private_key.sign(message).hex()}


def _check_one(index: int, sig: object, body_hash: str, trust: TrustStore) -> dict[str, str]:
    if (not isinstance(sig, dict) or set(sig) != _FIELDS
            or not all(isinstance(v, str) for v in sig.values())):
        raise PackageRefused("signature", f"signature {index} is malformed")
    key_id, role, user = sig["key_id"], sig["role"], sig["user"]
    if MEANING_OF_ROLE.get(role) != sig["meaning"]:
        raise PackageRefused("signature", f"signature {index} ({user}): role {role!r} with "
                             f"meaning {sig['meaning']!r} is not a release signature")
    key = trust.key(key_id)
    if key is None:
        raise PackageRefused("unknown_key", f"signature {index} ({user}) uses key {key_id}, "
                             "which is not in the trust store")
    if key.revoked:
        raise PackageRefused("revoked_key", f"signature {index} ({user}) uses key {key_id}, "
                             f"revoked at {key.revoked_at}")
    if key.user != user:
        raise PackageRefused("signature", f"signature {index} claims user {user!r} but key "
                             f"{key_id} belongs to {key.user!r}")
    if role not in key.roles:
        raise PackageRefused("role", f"key {key_id} of {user!r} may not sign as {role}")
    signed_at = parse_utc(sig["signed_at"], f"signature {index} signed_at")
    if key.retired_at is not None and signed_at > parse_utc(key.retired_at, "retired_at"):
        raise PackageRefused("revoked_key", f"signature {index} ({user}) was made with key "
                             f"{key_id} after it was retired at {key.retired_at}")
    if not _SIG_HEX.fullmatch(sig["signature"]):
        raise PackageRefused("signature", f"signature {index} ({user}, key {key_id}) is not "
                             "a 64-byte hex signature")
    message = signed_message(body_hash, role, user, key_id, sig["meaning"], sig["signed_at"])
    try:
        key.public().verify(bytes.fromhex(sig["signature"]), message)
    except InvalidSignature as exc:
        raise PackageRefused("signature", f"signature {index} ({user}, key {key_id}) does not "
                             "verify: the manifest or the signature was changed") from exc
    return sig


def check_signatures(body: Mapping[str, Any], signatures: Sequence[object],
                     trust: TrustStore) -> list[dict[str, str]]:
    """Check every signature and the threshold; returns them, or raises PackageRefused.

    Every signature must verify (a bad extra one is not ignored). The threshold is one
    engineer and one approver; no key and no user may appear twice, so one person or one
    key can never stand in for both sets of eyes.
    """
    body_hash = body_sha256(body)
    checked = [_check_one(i, sig, body_hash, trust) for i, sig in enumerate(signatures)]
    seen_keys: set[str] = set()
    seen_users: set[str] = set()
    for sig in checked:
        if sig["key_id"] in seen_keys:
            raise PackageRefused("threshold", f"key {sig['key_id']} signed more than once")
        if sig["user"] in seen_users:
            raise PackageRefused("threshold", f"user {sig['user']!r} signed more than once")
        seen_keys.add(sig["key_id"])
        seen_users.add(sig["user"])
    for role in MEANING_OF_ROLE:
        if not any(sig["role"] == role for sig in checked):
            raise PackageRefused("threshold", f"the package has no valid {role} signature")
    log.debug("package %s: %d signatures verified", body_hash[:12], len(checked))
    return checked
