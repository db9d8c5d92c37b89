"""Local accounts: creation, lookup, password checks with lockout."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import Conflict, NotFound, UsageError
from app.core.records import UserInfo
from app.core.roles import Role
from app.security.passwords import Passwords
from app.store.schema import User, UserRole

_NAME = re.compile(r"^[A-Za-z0-9_.-]{2,64}$")


@dataclass(frozen=True)
class LoginOutcome:
    """What a password check found; the services turn it into audit events and messages."""

    user: User | None
    ok: bool
    locked_now: bool = False
    was_locked: bool = False
    rehashed: bool = False
    #: The last administrator is never locked: it waits this long before the next try.
    wait_s: float = 0.0
    throttled_now: bool = False
    #: The password is right but was set by an administrator: the user must choose one.
    must_change: bool = False


#: The first wait of the last administrator after too many failures; it doubles with every
#: further failure, up to :data:`MAX_WAIT`.
FIRST_WAIT = timedelta(seconds=30)
MAX_WAIT = timedelta(hours=1)


def throttle_wait(excess: int) -> timedelta:
    """How long the last administrator waits after ``excess`` failures beyond the limit."""
    return min(FIRST_WAIT * (2 ** max(0, min(excess, 20))), MAX_WAIT)


def is_last_admin(session: Session, user: User) -> bool:
    """True if ``user`` is an administrator and no other unlocked administrator exists, so
    locking it would leave nobody to unlock anyone."""
    if Role.ADMIN not in user_roles(user):
        return False
    others = session.scalars(select(User).join(UserRole).where(
        UserRole.role == Role.ADMIN.value, User.id != user.id, User.locked.is_(False)))
    return others.first() is None


def normalize_username(name: str) -> str:
    """Lower-cased user name; raises UsageError if it has characters we do not allow."""
    name = name.strip()
    if not _NAME.match(name):
        raise UsageError(f"user name {name!r} is not allowed: use 2 to 64 letters, digits, "
                         "'.', '_' or '-'")
    return name.lower()


def parse_roles(names: list[str] | tuple[str, ...]) -> frozenset[Role]:
    """Roles from their names; raises UsageError for an unknown one."""
    roles = set()
    for name in names:
        try:
            roles.add(Role(name.strip().lower()))
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise UsageError(f"unknown role {name!r}; roles are {known}") from None
    if not roles:
        raise UsageError("give at least one role")
    return frozenset(roles)


def find_user(session: Session, username: str) -> User | None:
    """The account called ``username`` (case-insensitive), or None."""
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def get_user(session: Session, username: str) -> User:
    """The account called ``username``; raises NotFound."""
    user = find_user(session, username)
    if user is None:
        raise NotFound(f"there is no user {username!r}")
    return user


def user_count(session: Session) -> int:
    """Number of accounts."""
    return session.scalar(select(func.count()).select_from(User)) or 0


def create_user(session: Session, passwords: Passwords, username: str, password: str,
                roles: frozenset[Role], now: datetime) -> User:
    """Add an account; raises Conflict if the name is taken."""
    name = normalize_username(username)
    if find_user(session, name) is not None:
        raise Conflict(f"user {name!r} already exists")
    user = User(username=name, password_hash=passwords.hash(password), failed_attempts=0,
                locked=False, created_at=now.isoformat(), must_change_password=False,
                next_attempt_at=None)
    user.roles = [UserRole(role=r.value) for r in sorted(roles)]
    session.add(user)
    session.flush()
    return user


def user_roles(user: User) -> frozenset[Role]:
    """The roles an account holds."""
    return frozenset(Role(r.role) for r in user.roles)


def to_info(user: User) -> UserInfo:
    """Plain record of an account."""
    return UserInfo(user_id=user.id, username=user.username,
                    roles=tuple(sorted(user_roles(user))), locked=user.locked,
                    failed_attempts=user.failed_attempts,
                    created_at=datetime.fromisoformat(user.created_at))


def check_login(session: Session, passwords: Passwords, username: str, password: str,
                max_failures: int, now: datetime) -> LoginOutcome:
    """Check a password and update the failure count; the caller audits and commits.

    The hash is computed even for unknown or locked accounts, so every answer takes about
    as long and says as little. After ``max_failures`` an account is locked, except the
    last administrator, which instead must wait (growing) before the next try: a stranger
    at the keyboard cannot lock the plant out of its own workstation.
    """
    user = find_user(session, username)
    ok = passwords.verify(user.password_hash if user else None, password)
    if user is None:
        return LoginOutcome(user=None, ok=False)
    if user.locked:
        return LoginOutcome(user=user, ok=False, was_locked=True)
    if user.next_attempt_at is not None:
        wait = (datetime.fromisoformat(user.next_attempt_at) - now).total_seconds()
        if wait > 0:
            # Not even a right password counts during the wait: it would let guessing on.
            return LoginOutcome(user=user, ok=False, wait_s=wait)
    if not ok:
        user.failed_attempts += 1
        if user.failed_attempts < max_failures:
            return LoginOutcome(user=user, ok=False)
        if is_last_admin(session, user):
            wait_for = throttle_wait(user.failed_attempts - max_failures)
            user.next_attempt_at = (now + wait_for).isoformat()
            return LoginOutcome(user=user, ok=False, wait_s=wait_for.total_seconds(),
                                throttled_now=True)
        user.locked = True
        return LoginOutcome(user=user, ok=False, locked_now=True)
    user.failed_attempts = 0
    user.next_attempt_at = None
    if user.must_change_password:
        return LoginOutcome(user=user, ok=False, must_change=True)
    rehashed = passwords.needs_rehash(user.password_hash)
    if rehashed:
        user.password_hash = passwords.hash(password)
    return LoginOutcome(user=user, ok=True, rehashed=rehashed)
