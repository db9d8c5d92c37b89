"""The security primitives one rule at a time: what an electronic signature signs (checked with
the public key alone, against the documented message, so a change to what is signed cannot
hide behind a verify that changes with it), which key signs, revocation, the login outcomes
and the last-administrator rule, and the recovery code."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.orm import Session

from app.core.canonical import canonical_bytes
from app.core.errors import AuthenticationError, IntegrityError, NotFound, UsageError
from app.core.roles import Role
from app.security import accounts, recovery, signing
from app.security.passwords import Passwords
from app.store.schema import SignatureRow, User, UserKey
from app.store.settings import set_setting

T0 = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)
PASSWORD = "Grün-Passwort-42"  # not ASCII: the private key is encrypted with its UTF-8 bytes
REQ = signing.SignRequest(record_type="model_version", record_id="pump:v3",
                          record_hash="ab" * 32, meaning="approved", reason="bench tests ok")


def _user(s: Session, passwords: Passwords, name: str, roles=(Role.ENGINEER,)) -> User:
    return accounts.create_user(s, passwords, name, PASSWORD, frozenset(roles), T0)


def _key(s: Session, user: User, created: datetime, revoked: datetime | None = None) -> UserKey:
    key = signing.create_user_key(s, user, PASSWORD, created)
    key.revoked_at = revoked.isoformat() if revoked else None
    s.flush()
    return key


# ------------------------------------------------------------------ what a signature signs

def test_a_signature_verifies_with_the_public_key_alone_over_the_documented_message(
        session, passwords):
    erin = _user(session, passwords, "erin")
    key = _key(session, erin, T0)
    sig = signing.sign(session, erin, PASSWORD, REQ, T0 + timedelta(minutes=1))
    message = canonical_bytes({
        "purpose": "plantml-esignature-v1", "user": "erin", "user_id": erin.id,
        "key_id": key.key_id, "meaning": "approved", "reason": "bench tests ok",
        "record_type": "model_version", "record_id": "pump:v3", "record_hash": "ab" * 32,
        "signed_at": (T0 + timedelta(minutes=1)).isoformat()})
    Ed25519PublicKey.from_public_bytes(key.public_key).verify(bytes.fromhex(sig.signature),
                                                              message)
    row = session.get(SignatureRow, sig.signature_id)
    assert (sig.signature_id, sig.username, sig.meaning, sig.reason, sig.record_type,
            sig.record_id, sig.record_hash, sig.signed_at, sig.key_id, sig.signature) == (
        row.id, "erin", "approved", "bench tests ok", "model_version", "pump:v3", "ab" * 32,
        (T0 + timedelta(minutes=1)).isoformat(), key.key_id, row.signature)
    assert signing.verify(session, sig.signature_id, "model_version", "pump:v3",
                          "ab" * 32) == sig


def test_a_key_is_a_raw_ed25519_key_named_by_its_hash_and_locked_by_the_password(
        session, passwords):
    erin = _user(session, passwords, "erin")
    key = _key(session, erin, T0)
    assert len(key.public_key) == 32
    assert key.key_id == hashlib.sha256(key.public_key).hexdigest()[:16]
    assert key.user_id == erin.id and key.created_at == T0.isoformat()
    assert key.private_key_enc.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    private = serialization.load_pem_private_key(key.private_key_enc,
                                                 password=PASSWORD.encode("utf-8"))
    assert isinstance(private, Ed25519PrivateKey)
    assert private.public_key().public_bytes(serialization.Encoding.Raw,
                                             serialization.PublicFormat.Raw) == key.public_key
    with pytest.raises(AuthenticationError) as err:
        signing.unlock_private_key(session, erin, PASSWORD + "x")
    assert str(err.value) == "the password does not unlock the signing key"


def test_the_newest_unrevoked_key_signs(session, passwords):
    erin = _user(session, passwords, "erin")
    older = _key(session, erin, T0)  # inserted first: a scan without ordering finds it first
    newer = _key(session, erin, T0 + timedelta(days=1))
    _key(session, erin, T0 + timedelta(days=2), revoked=T0 + timedelta(days=3))
    assert signing.active_key(session, erin).key_id == newer.key_id
    newer.revoked_at = (T0 + timedelta(days=4)).isoformat()
    session.flush()
    assert signing.active_key(session, erin).key_id == older.key_id
    older.revoked_at = (T0 + timedelta(days=4)).isoformat()
    session.flush()
    with pytest.raises(NotFound) as err:
        signing.active_key(session, erin)
    assert str(err.value) == "user 'erin' has no signing key"


def test_revoking_touches_only_that_users_active_keys(session, passwords):
    erin, alice = _user(session, passwords, "erin"), _user(session, passwords, "alice")
    earlier = T0 + timedelta(hours=1)
    old = _key(session, erin, T0, revoked=earlier)
    live = _key(session, erin, T0 + timedelta(hours=2))
    theirs = _key(session, alice, T0)
    signing.revoke_keys(session, erin, T0 + timedelta(hours=5))
    assert live.revoked_at == (T0 + timedelta(hours=5)).isoformat()
    assert old.revoked_at == earlier.isoformat(), "an earlier revocation keeps its time"
    assert theirs.revoked_at is None


def test_a_changed_password_re_encrypts_the_key(session, passwords):
    erin = _user(session, passwords, "erin")
    key = _key(session, erin, T0)
    signing.reencrypt_key(key, PASSWORD, "Neues-Paßwort-43")
    signing.unlock_private_key(session, erin, "Neues-Paßwort-43")
    with pytest.raises(AuthenticationError):
        signing.unlock_private_key(session, erin, PASSWORD)


# ------------------------------------------------------------------ verification refusals

def _signed(session, passwords) -> tuple[User, UserKey, SignatureRow]:
    erin = _user(session, passwords, "erin")
    key = _key(session, erin, T0)
    sig = signing.sign(session, erin, PASSWORD, REQ, T0 + timedelta(minutes=1))
    return erin, key, session.get(SignatureRow, sig.signature_id)


def _verify(session, row_id: int) -> str:
    with pytest.raises((IntegrityError, NotFound)) as err:
        signing.verify(session, row_id, REQ.record_type, REQ.record_id, REQ.record_hash)
    return str(err.value)


def test_each_refusal_says_what_does_not_match(session, passwords):
    _erin, _key_row, row = _signed(session, passwords)
    assert _verify(session, 99) == "there is no signature 99"
    row.reason = "nothing to see"
    session.flush()
    assert _verify(session, row.id) == (f"signature {row.id} does not verify: the signed "
                                        "content was changed")


def test_a_signature_whose_key_belongs_to_someone_else_is_refused_as_such(session, passwords):
    _erin, _key_row, row = _signed(session, passwords)
    mallory = _user(session, passwords, "mallory")
    row.key_id = _key(session, mallory, T0).key_id
    session.flush()
    assert _verify(session, row.id) == f"signature {row.id}: signer or key does not exist"


def test_a_signature_whose_signer_is_gone_is_refused_as_such(session, passwords):
    _erin, _key_row, row = _signed(session, passwords)
    row.user_id = 9999  # SQLite enforces no foreign key here: an edit of the file
    session.flush()
    assert _verify(session, row.id) == f"signature {row.id}: signer or key does not exist"


def test_a_key_revoked_before_the_signing_time_refuses_and_at_it_does_not(session, passwords):
    _erin, key, row = _signed(session, passwords)
    # The revocation is the instant it was recorded: a signature of that same instant was
    # made while the key was still valid.
    key.revoked_at = row.signed_at
    session.flush()
    signing.verify(session, row.id, REQ.record_type, REQ.record_id, REQ.record_hash)
    key.revoked_at = (T0 + timedelta(seconds=59)).isoformat()
    session.flush()
    assert _verify(session, row.id) == f"signature {row.id} was made with a revoked key"


# ------------------------------------------------------------------ accounts

def test_login_outcomes_carry_the_account_and_the_exact_flags(session, passwords):
    erin = _user(session, passwords, "erin")
    assert accounts.check_login(session, passwords, "nobody", PASSWORD, 5, T0) == \
        accounts.LoginOutcome(user=None, ok=False)
    failed = accounts.check_login(session, passwords, "erin", "wrong", 5, T0)
    assert failed == accounts.LoginOutcome(user=erin, ok=False)
    erin.locked = True
    assert accounts.check_login(session, passwords, "erin", PASSWORD, 5, T0) == \
        accounts.LoginOutcome(user=erin, ok=False, was_locked=True)


def test_a_wait_of_under_a_second_still_holds_and_a_finished_one_does_not(session, passwords):
    erin = _user(session, passwords, "erin")
    erin.next_attempt_at = (T0 + timedelta(milliseconds=500)).isoformat()
    assert accounts.check_login(session, passwords, "erin", PASSWORD, 5, T0) == \
        accounts.LoginOutcome(user=erin, ok=False, wait_s=0.5)
    erin.next_attempt_at = T0.isoformat()
    assert accounts.check_login(session, passwords, "erin", PASSWORD, 5, T0).ok is True


def test_the_last_admin_rule_counts_only_other_unlocked_administrators(session, passwords):
    root = _user(session, passwords, "root", roles=(Role.ADMIN,))
    _user(session, passwords, "erin")  # not an administrator
    assert accounts.is_last_admin(session, root)
    other = _user(session, passwords, "second", roles=(Role.ADMIN,))
    assert not accounts.is_last_admin(session, root)
    other.locked = True
    session.flush()
    assert accounts.is_last_admin(session, root)


def test_account_lookups_and_roles_name_the_problem(session, passwords):
    erin = _user(session, passwords, "erin")
    erin.failed_attempts = 3
    info = accounts.to_info(erin)
    assert (info.user_id, info.username, info.failed_attempts) == (erin.id, "erin", 3)
    with pytest.raises(NotFound) as err:
        accounts.get_user(session, "ghost")
    assert str(err.value) == "there is no user 'ghost'"
    with pytest.raises(UsageError) as err:
        accounts.parse_roles([])
    assert str(err.value) == "give at least one role"
    with pytest.raises(UsageError) as err:
        accounts.parse_roles(["boss"])
    assert str(err.value) == ("unknown role 'boss'; roles are engineer, approver, operator, "
                              "auditor, admin")


# ------------------------------------------------------------------ recovery code

def test_the_recovery_code_is_there_only_once_issued_and_damage_reads_as_absent(
        session, passwords):
    assert not recovery.has_code(session)
    assert not recovery.check_code(session, passwords, "AAAAA")
    code = recovery.new_code()
    recovery.store_code(session, passwords, code, T0)
    assert recovery.has_code(session)
    assert recovery.check_code(session, passwords, code.lower().replace("-", " "))
    set_setting(session, recovery.SETTING, {"hash": ""})
    assert not recovery.has_code(session)
    set_setting(session, recovery.SETTING, "a plain string")
    assert not recovery.has_code(session)
    assert not recovery.check_code(session, passwords, code)
