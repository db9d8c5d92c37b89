"""Account administration: add, list, reset or change passwords, unlock, roles."""

from __future__ import annotations

import builtins

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import AuthenticationError, NotFound, UsageError
from app.core.principal import Principal
from app.core.records import UserInfo
from app.core.roles import Action, Role, role_conflict
from app.security import accounts, signing
from app.security.passwords import Passwords
from app.services.base import ServiceContext
from app.services.trust import retire_user_keys, trust_user_key
from app.store.schema import User, UserRole


class UserService:
    """Account administration through the role check and the audit trail."""

    def __init__(self, ctx: ServiceContext, passwords: Passwords) -> None:
        self.ctx = ctx
        self.passwords = passwords

    def add(self, principal: Principal, *, username: str, password: str,
            roles: list[str] | tuple[str, ...]) -> UserInfo:
        """Create an account with its signing key."""
        wanted = accounts.parse_roles(list(roles))
        name = accounts.normalize_username(username)
        self._refuse_conflict(principal, Action.USER_ADD, f"user:{name}", wanted)

        def change(s: Session, _role: Role):
            now = self.ctx.clock.now()
            user = accounts.create_user(s, self.passwords, name, password, wanted, now)
            key = signing.create_user_key(s, user, password, now)
            trusted = trust_user_key(s, user, key, {r.value for r in wanted}, now, rotate=False)
            new: dict[str, object] = {"roles": sorted(r.value for r in wanted),
                                      "signing_key": key.key_id}
            if trusted:
                new["trust"] = trusted
            return None, new, accounts.to_info(user)

        return self.ctx.audited(principal, Action.USER_ADD, f"user:{name}", change)

    def list(self, principal: Principal) -> list[UserInfo]:
        """Every account."""
        self.ctx.authorize(principal, Action.USER_LIST)
        with self.ctx.db.reader() as s:
            return [accounts.to_info(u) for u in s.scalars(select(User).order_by(User.username))]

    def set_password(self, principal: Principal, *, username: str, password: str) -> None:
        """An administrator resets a password. The password is temporary: it only lets the
        user choose their own (:meth:`AuthService.complete_reset`), which makes their new
        signing key. The old key is retired, not revoked: what it signed stays valid, and
        no key is ever made with a password the administrator knows."""
        def change(s: Session, _role: Role):
            user = accounts.get_user(s, username)
            now = self.ctx.clock.now()
            old = {"locked": user.locked, "failed_attempts": user.failed_attempts}
            user.password_hash = self.passwords.hash(password)
            user.must_change_password = True
            user.locked, user.failed_attempts, user.next_attempt_at = False, 0, None
            signing.revoke_keys(s, user, now)
            retired = retire_user_keys(s, user, now)
            new = {"password": "reset (temporary)", "must_change_password": True,
                   "locked": False, "signing_keys_retired": retired}
            return old, new, None

        self.ctx.audited(principal, Action.USER_SET_PASSWORD, f"user:{username.lower()}", change)

    def change_own_password(self, principal: Principal, *, old_password: str,
                            new_password: str) -> None:
        """A user changes their own password; their signing key is re-encrypted (or made,
        if they have none)."""
        def body(s: Session) -> bool:
            user = accounts.get_user(s, principal.username)
            if not self.passwords.verify(user.password_hash, old_password):
                self.ctx.trail.append(s, user=principal.username, role="",
                                      action="user.passwd.self", obj=f"user:{user.username}",
                                      result="refused", reason="old password wrong")
                return False
            user.password_hash = self.passwords.hash(new_password)
            now = self.ctx.clock.now()
            new: dict[str, object] = {"password": "changed"}
            try:
                signing.reencrypt_key(signing.active_key(s, user), old_password, new_password)
            except NotFound:
                key = signing.create_user_key(s, user, new_password, now)
                roles = {r.value for r in accounts.user_roles(user)}
                new.update(signing_key=key.key_id,
                           trust=trust_user_key(s, user, key, roles, now, rotate=False))
            self.ctx.trail.append(s, user=principal.username, role="", action="user.passwd.self",
                                  obj=f"user:{user.username}", new=new)
            return True

        if not self.ctx.write(body):
            raise AuthenticationError("the old password is wrong; the password was not changed")

    def unlock(self, principal: Principal, *, username: str, reason: str = "") -> None:
        """Clear a lockout."""
        def change(s: Session, _role: Role):
            user = accounts.get_user(s, username)
            old = {"locked": user.locked, "failed_attempts": user.failed_attempts}
            user.locked = False
            user.failed_attempts = 0
            return old, {"locked": False, "failed_attempts": 0}, None

        self.ctx.audited(principal, Action.USER_UNLOCK, f"user:{username.lower()}", change,
                         reason=reason)

    def set_roles(self, principal: Principal, *, username: str,
                  roles: builtins.list[str] | tuple[str, ...]) -> UserInfo:
        """Replace an account's roles; nobody removes the last administrator."""
        wanted = accounts.parse_roles(list(roles))
        self._refuse_conflict(principal, Action.USER_SET_ROLES, f"user:{username.lower()}",
                              wanted)

        def change(s: Session, _role: Role):
            user = accounts.get_user(s, username)
            old = sorted(r.value for r in accounts.user_roles(user))
            if Role.ADMIN.value in old and Role.ADMIN not in wanted:
                admins = [u for u in s.scalars(select(User))
                          if Role.ADMIN in accounts.user_roles(u)]
                if len(admins) <= 1:
                    raise UsageError("the last administrator cannot give up the admin role")
            user.roles = [r for r in user.roles if Role(r.role) in wanted]
            have = accounts.user_roles(user)
            user.roles.extend(UserRole(role=r.value) for r in sorted(wanted - have))
            s.flush()
            return {"roles": old}, {"roles": sorted(r.value for r in wanted)}, \
                accounts.to_info(user)

        return self.ctx.audited(principal, Action.USER_SET_ROLES, f"user:{username.lower()}",
                                change)

    def _refuse_conflict(self, principal: Principal, action: Action, obj: str,
                         wanted: frozenset[Role]) -> None:
        """Refuse (audited) roles that one account may not hold together."""
        conflict = role_conflict(wanted)
        if conflict is None:
            return
        role = self.ctx.authorize(principal, action, obj)
        self.ctx.audit_outcome(principal, role.value, action.value, obj, result="refused",
                               reason=conflict,
                               new={"roles": sorted(r.value for r in wanted)})
        raise UsageError(conflict)
