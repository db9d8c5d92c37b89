"""The rules around sign-in and signing one at a time: what a refusal names, where the password
length ends, that an unknown user never signs in, and that the sealed security state sees every
field of a signing key change behind PlantML's back, and nothing that is not a key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.core.errors import PermissionDenied, UsageError
from app.core.principal import Principal
from app.core.roles import Action, Role
from app.security import accounts, signing
from app.security.authz import require
from app.security.passwords import MIN_PASSWORD_LENGTH, HashParams, Passwords, check_strength
from app.security.state import describe, security_state
from app.store.schema import User, UserKey

T0 = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
PASSWORD = "Rules-Passw0rd-42"


def _principal(*roles: Role) -> Principal:
    return Principal(user_id=1, username="pat", roles=frozenset(roles))


# ------------------------------------------------------------------ what a refusal names

def test_a_refusal_names_every_role_that_may_and_only_them():
    with pytest.raises(PermissionDenied) as exc:
        require(_principal(Role.OPERATOR), Action.MODEL_APPROVE)
    assert str(exc.value) == "pat may not model.approve: that needs the role approver"
    with pytest.raises(PermissionDenied) as exc:
        require(_principal(Role.OPERATOR), Action.USER_LIST)
    assert str(exc.value) == "pat may not user.list: that needs the role admin, auditor"


def test_a_conflicting_account_is_told_of_the_conflict_only_for_what_its_roles_allow():
    both = _principal(Role.ADMIN, Role.APPROVER)
    with pytest.raises(PermissionDenied) as exc:
        require(both, Action.MODEL_APPROVE)  # approver may, but not beside admin
    assert "cannot be held together with approver" in str(exc.value)
    with pytest.raises(PermissionDenied) as exc:
        require(both, Action.AUDIT_EXPORT)  # neither role may: the plain refusal
    assert str(exc.value) == "pat may not audit.export: that needs the role auditor"


# ------------------------------------------------------------------ passwords

def test_a_password_of_exactly_the_minimum_length_is_accepted():
    check_strength("x" * MIN_PASSWORD_LENGTH)
    with pytest.raises(UsageError, match=f"at least {MIN_PASSWORD_LENGTH} characters"):
        check_strength("x" * (MIN_PASSWORD_LENGTH - 1))


def test_every_cost_parameter_is_read_from_the_setting():
    assert HashParams.from_setting({"time_cost": 2, "memory_cost": 2048, "parallelism": 3}) \
        == HashParams(time_cost=2, memory_cost=2048, parallelism=3)


def test_an_unknown_user_never_signs_in_not_even_with_the_stand_in_password(passwords):
    # Unknown names are checked against a stand-in hash so they take as long; whatever that
    # hash was made from, a missing account is refused.
    for guess in ("plantml-no-such-user", PASSWORD, ""):
        assert passwords.verify(None, guess) is False
    stored = passwords.hash(PASSWORD)
    assert passwords.verify(stored, PASSWORD) is True
    assert passwords.verify(stored, PASSWORD + "!") is False


# ------------------------------------------------------------------ the sealed state

def _people_with_a_key(s: Session, passwords: Passwords) -> tuple[User, User, UserKey]:
    ann = accounts.create_user(s, passwords, "ann", PASSWORD, frozenset({Role.APPROVER}), T0)
    bob = accounts.create_user(s, passwords, "bob", PASSWORD, frozenset({Role.ENGINEER}), T0)
    key = signing.create_user_key(s, ann, PASSWORD, T0)
    s.flush()
    return ann, bob, key


@pytest.mark.parametrize("change", ["key_id", "owner", "revoked", "unrevoked"])
def test_each_field_of_a_signing_key_changed_behind_plantml_is_seen(session, passwords,
                                                                   change):
    _, bob, key = _people_with_a_key(session, passwords)
    if change == "unrevoked":
        key.revoked_at = T0.isoformat()
        session.flush()
    before = security_state(session)
    values = {"key_id": {"key_id": "f" * 32}, "owner": {"user_id": bob.id},
              "revoked": {"revoked_at": T0.isoformat()}, "unrevoked": {"revoked_at": None}}
    session.execute(update(UserKey).where(UserKey.key_id == key.key_id).values(values[change]))
    assert security_state(session).differs(before.digests) == ["keys"]


def test_an_account_without_a_key_leaves_the_keys_digest_as_it_was(session, passwords):
    _people_with_a_key(session, passwords)
    before = security_state(session)
    accounts.create_user(session, passwords, "cy", PASSWORD, frozenset({Role.OPERATOR}), T0)
    session.flush()
    after = security_state(session)
    assert after.differs(before.digests) == ["roles"]
    assert ("cy", Role.OPERATOR.value) in after.roles


def test_parts_are_named_as_a_sentence():
    assert describe(["roles"]) == "the roles"
    assert describe(["roles", "trust"]) == "the roles and trust store"
    assert describe(["roles", "keys", "settings"]) == \
        "the roles, signing keys and integrity settings"
