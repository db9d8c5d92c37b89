"""Sign-in, first-run administrator and electronic signatures."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from app.core.errors import (
    AuthenticationError,
    Conflict,
    PasswordChangeRequired,
    PermissionDenied,
    UsageError,
)
from app.core.principal import SYSTEM, Principal
from app.core.records import Signature
from app.core.roles import Action, Role
from app.security import accounts, recovery, signing
from app.security.passwords import Passwords
from app.services.base import ServiceContext
from app.services.trust import trust_user_key
from app.store.settings import get_setting

#: The parts of the security state a signature depends on.
SIGNING_PARTS = ("roles", "keys", "trust")
LOGIN_FAILED = ("invalid user name or password (after 5 failed attempts an account is "
                "locked; an administrator can unlock it)")
RESET_PENDING = ("the password of {name} was reset by an administrator: choose your own with "
                 "'plantml user passwd' (your new signing key is made with it)")


class AuthService:
    """Authentication and e-signatures; every attempt is audited."""

    def __init__(self, ctx: ServiceContext, passwords: Passwords) -> None:
        self.ctx = ctx
        self.passwords = passwords

    def needs_admin(self) -> bool:
        """True on the first run, before any account exists."""
        with self.ctx.db.reader() as s:
            return accounts.user_count(s) == 0

    def bootstrap_admin(self, *, username: str, password: str) -> Principal:
        """Create the first administrator; refused once any account exists. Front ends
        that can show it should call :meth:`initialize` and show the recovery code."""
        return self.initialize(username=username, password=password)[0]

    def initialize(self, *, username: str, password: str) -> tuple[Principal, str]:
        """Create the first administrator and its one-time recovery code (shown once, kept
        only as a hash); refused once any account exists."""
        code = recovery.new_code()

        def body(s: Session) -> Principal:
            if accounts.user_count(s) != 0:
                raise Conflict("the administrator already exists; sign in instead")
            now = self.ctx.clock.now()
            user = accounts.create_user(s, self.passwords, username, password,
                                        frozenset({Role.ADMIN}), now)
            signing.create_user_key(s, user, password, now)
            recovery.store_code(s, self.passwords, code, now)
            self.ctx.trail.append(s, user=SYSTEM.username, role="", action="user.add",
                                  obj=f"user:{user.username}", new={"roles": ["admin"]},
                                  reason="first run: administrator created")
            self.ctx.trail.append(s, user=SYSTEM.username, role="", action="recovery.issue",
                                  obj=f"user:{user.username}",
                                  reason="recovery code issued with the administrator, shown once")
            self.ctx.trail.append(s, user=user.username, role="", action="login",
                                  obj=f"user:{user.username}")
            return self._principal(user)

        return self.ctx.write(body), code

    def login(self, *, username: str, password: str) -> Principal:
        """Check the password; raises AuthenticationError with one message for every failure
        (PasswordChangeRequired after an administrator's reset; a wait message for the last
        administrator after repeated failures)."""
        max_failures = self._max_failures()

        def body(s: Session) -> tuple[Principal | None, str]:
            out = accounts.check_login(s, self.passwords, username, password, max_failures,
                                       self.ctx.clock.now())
            name = out.user.username if out.user else username[:64]
            if out.ok:
                assert out.user is not None
                self.ctx.trail.append(s, user=name, role="", action="login", obj=f"user:{name}",
                                      new={"rehashed": True} if out.rehashed else None)
                return self._principal(out.user), ""
            reason = ("account locked" if out.was_locked else
                      "unknown user" if out.user is None else
                      "password reset pending: the user must choose their own"
                      if out.must_change else
                      "waiting after repeated failures" if out.wait_s and not out.throttled_now
                      else "wrong password")
            self.ctx.trail.append(s, user=name, role="", action="login", obj=f"user:{name}",
                                  reason=reason, result="refused")
            _audit_lock_or_wait(self.ctx, s, out, name, max_failures)
            return None, _failure_message(out, name)

        principal, message = self.ctx.write(body)
        if principal is None:
            if message.startswith("the password of"):
                raise PasswordChangeRequired(message)
            raise AuthenticationError(message)
        return principal

    def complete_reset(self, *, username: str, temporary_password: str,
                       new_password: str) -> Principal:
        """After an administrator's reset: the user replaces the temporary password with
        their own and gets a new signing key made with it; their earlier signatures stay
        valid (the old key was retired, not revoked)."""
        max_failures = self._max_failures()
        if new_password == temporary_password:
            raise UsageError("choose a password of your own, not the one the administrator "
                             "set")

        def body(s: Session) -> tuple[Principal | None, str]:
            now = self.ctx.clock.now()
            out = accounts.check_login(s, self.passwords, username, temporary_password,
                                       max_failures, now)
            name = out.user.username if out.user else username[:64]
            if not out.must_change:
                reason = "no reset pending" if out.ok else "temporary password not confirmed"
                self.ctx.trail.append(s, user=name, role="", action="user.passwd.reset",
                                      obj=f"user:{name}", result="refused", reason=reason)
                _audit_lock_or_wait(self.ctx, s, out, name, max_failures)
                return None, ("no password reset is pending for you; change your password "
                              "with your current one" if out.ok else
                              _failure_message(out, name))
            user = out.user
            assert user is not None
            user.password_hash = self.passwords.hash(new_password)
            user.must_change_password = False
            key = signing.create_user_key(s, user, new_password, now)
            roles = {r.value for r in accounts.user_roles(user)}
            trusted = trust_user_key(s, user, key, roles, now, rotate=False)
            self.ctx.trail.append(s, user=name, role="", action="user.passwd.reset",
                                  obj=f"user:{name}", new={"password": "chosen by the user",
                                                           "signing_key": key.key_id,
                                                           "trust": trusted})
            return self._principal(user), ""

        principal, message = self.ctx.write(body)
        if principal is None:
            raise AuthenticationError(message)
        return principal

    def new_recovery_code(self, principal: Principal, *, password: str) -> str:
        """An administrator, re-entering their password, replaces the recovery code (the old
        one stops working); returns the new code, to be printed and kept in the safe."""
        role = self.ctx.authorize(principal, Action.USER_SET_PASSWORD, "recovery-code")
        code = recovery.new_code()

        def body(s: Session) -> bool:
            user = confirm_password(self.ctx, self.passwords, s, principal, password,
                                    "recovery-code", role.value, action="recovery.issue")
            if user is None:
                return False
            recovery.store_code(s, self.passwords, code, self.ctx.clock.now())
            self.ctx.trail.append(s, user=principal.username, role=role.value,
                                  action="recovery.issue", obj="recovery-code",
                                  reason="new recovery code printed; the old one is void")
            return True

        if not self.ctx.write(body):
            raise AuthenticationError("the password was not confirmed; the recovery code is "
                                      "unchanged")
        return code

    def recover_admin(self, *, username: str, code: str, new_password: str
                      ) -> tuple[Principal, str]:
        """Open a locked or forgotten administrator account with the recovery code, at the
        workstation: unlocked, a new password, a new signing key; the code is used up and a
        new one returned (print it and put it back in the safe). Every try is audited."""
        new_code = recovery.new_code()

        def body(s: Session) -> Principal | None:
            now = self.ctx.clock.now()
            good = recovery.check_code(s, self.passwords, code)
            try:
                user = accounts.find_user(s, username)
            except UsageError:
                user = None
            name = user.username if user else username[:64]
            if not good or user is None or Role.ADMIN not in accounts.user_roles(user):
                self.ctx.trail.append(s, user=name, role="", action="user.recover",
                                      obj=f"user:{name}", result="refused",
                                      reason="recovery code or administrator name wrong")
                return None
            old = {"locked": user.locked, "failed_attempts": user.failed_attempts}
            user.password_hash = self.passwords.hash(new_password)
            user.locked, user.failed_attempts = False, 0
            user.next_attempt_at, user.must_change_password = None, False
            signing.revoke_keys(s, user, now)
            signing.create_user_key(s, user, new_password, now)
            recovery.store_code(s, self.passwords, new_code, now)
            self.ctx.trail.append(s, user=name, role="admin", action="user.recover",
                                  obj=f"user:{name}", old=old,
                                  new={"locked": False, "password": "set at the workstation",
                                       "recovery_code": "used up; a new one was printed"},
                                  reason="recovery with the one-time code")
            return self._principal(user)

        principal = self.ctx.write(body)
        if principal is None:
            raise AuthenticationError("the recovery code or the administrator's name is wrong; "
                                      "nothing was changed")
        return principal, new_code

    def esign(self, principal: Principal, *, password: str, action: Action, meaning: str,
              reason: str, record_type: str, record_id: str, record_hash: str) -> Signature:
        """Electronic signature: the password is asked again every time and a failure counts
        toward lockout; the signature binds ``record_hash``."""
        if meaning not in signing.MEANINGS:
            raise UsageError(f"meaning must be one of {', '.join(signing.MEANINGS)}")
        if not reason.strip():
            raise UsageError("a signature needs a reason")
        role = self.ctx.authorize(principal, action, f"{record_type}:{record_id}")
        obj = f"{record_type}:{record_id}"

        def body(s: Session) -> Signature | None:
            # Who may sign must be what the audit trail sealed, not an edit of the database.
            self.ctx.require_sealed(s, SIGNING_PARTS)
            user = confirm_password(self.ctx, self.passwords, s, principal, password, obj,
                                    role.value)
            if user is None:
                return None
            req = signing.SignRequest(record_type=record_type, record_id=record_id,
                                      record_hash=record_hash, meaning=meaning, reason=reason)
            sig = signing.sign(s, user, password, req, self.ctx.clock.now())
            self.ctx.trail.append(s, user=principal.username, role=role.value, action="esign",
                                  obj=obj, new={"signature_id": sig.signature_id,
                                                "meaning": meaning, "record_hash": record_hash,
                                                "key_id": sig.key_id}, reason=reason)
            return sig

        sig = self.ctx.write(body)
        if sig is None:
            raise AuthenticationError("the password was not confirmed; nothing was signed")
        return sig

    def reauthenticate(self, principal: Principal, *, password: str, what: str) -> None:
        """Confirm the signed-in user again before a plant-affecting step (``what``, e.g. a
        flash): a wrong password is audited, counts toward lockout, and nothing is done."""
        obj = f"user:{principal.username}"

        def body(s: Session):
            return confirm_password(self.ctx, self.passwords, s, principal, password, obj,
                                    "", action="reauth")

        if self.ctx.write(body) is None:
            raise AuthenticationError(f"the password was not confirmed; {what} was not started")

    def idle_lock_seconds(self) -> float:
        """How long the GUI may sit without input before it locks (setting, in minutes)."""
        with self.ctx.db.reader() as s:
            return 60.0 * float(get_setting(s, "security.idle_lock_minutes"))

    def lock_session(self, principal: Principal, *, reason: str) -> None:
        """Record that the session locked (T27); the front end hides its content."""
        self.ctx.audit_outcome(principal, "", "session.lock", f"user:{principal.username}",
                               result="ok", reason=reason)

    def unlock_session(self, principal: Principal, *, password: str) -> Principal:
        """Unlock a locked session: only its own user, with their password (failures count
        toward lockout like any sign-in)."""
        again = self.login(username=principal.username, password=password)
        self.ctx.audit_outcome(again, "", "session.unlock", f"user:{again.username}",
                               result="ok")
        return again

    def logout(self, principal: Principal, *, reason: str) -> None:
        """Record that the session ended (sign-out, switch user, closing the application);
        never refused, so a front end can always end a session."""
        self.ctx.audit_outcome(principal, "", "logout", f"user:{principal.username}",
                               result="ok", reason=reason)

    def verify_signature(self, principal: Principal, *, signature_id: int, record_type: str,
                         record_id: str, record_hash: str) -> Signature:
        """Check a stored signature against the record it claims; raises IntegrityError."""
        if not principal.roles:
            raise PermissionDenied("sign in first")
        with self.ctx.db.reader() as s:
            return signing.verify(s, signature_id, record_type, record_id, record_hash)

    def _max_failures(self) -> int:
        with self.ctx.db.reader() as s:
            return int(get_setting(s, "security.max_failed_logins"))

    @staticmethod
    def _principal(user) -> Principal:
        return Principal(user_id=user.id, username=user.username,
                         roles=accounts.user_roles(user), session_id=secrets.token_hex(8))


def confirm_password(ctx: ServiceContext, passwords: Passwords, s: Session,
                     principal: Principal, password: str, obj: str, role: str,
                     action: str = "esign"):
    """Re-check the signer's password inside the caller's transaction; a failure is audited
    and counts toward lockout. Returns the account, or None if the password is wrong."""
    max_failures = int(get_setting(s, "security.max_failed_logins"))
    out = accounts.check_login(s, passwords, principal.username, password, max_failures,
                               ctx.clock.now())
    if out.ok and out.user is not None:
        return out.user
    ctx.trail.append(s, user=principal.username, role=role, action=action, obj=obj,
                     result="refused", reason="password not confirmed")
    _audit_lock_or_wait(ctx, s, out, principal.username, max_failures)
    return None


def _audit_lock_or_wait(ctx: ServiceContext, s: Session, out: accounts.LoginOutcome,
                        name: str, max_failures: int) -> None:
    if out.locked_now:
        ctx.trail.append(s, user="system", role="", action="user.lock", obj=f"user:{name}",
                         new={"locked": True}, reason=f"{max_failures} failed password entries")
    elif out.throttled_now:
        ctx.trail.append(s, user="system", role="", action="user.throttle", obj=f"user:{name}",
                         new={"wait_s": round(out.wait_s)},
                         reason=f"{out.user.failed_attempts if out.user else max_failures} "
                         "failed password entries; the last administrator waits instead of "
                         "being locked")


def _failure_message(out: accounts.LoginOutcome, name: str) -> str:
    if out.must_change:
        return RESET_PENDING.format(name=name)
    if out.wait_s:
        return (f"too many failed sign-ins: wait {int(out.wait_s + 0.999)} s before the next "
                "try (the last administrator is never locked out; 'plantml recover-admin' "
                "with the recovery code opens the account at once)")
    return LOGIN_FAILED
