"""Sign-in, first-run administrator and electronic signatures."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from app.core.errors import AuthenticationError, Conflict, PermissionDenied, UsageError
from app.core.principal import SYSTEM, Principal
from app.core.records import Signature
from app.core.roles import Action, Role
from app.security import accounts, signing
from app.security.passwords import Passwords
from app.services.base import ServiceContext
from app.store.settings import get_setting

LOGIN_FAILED = ("invalid user name or password (after 5 failed attempts an account is "
                "locked; an administrator can unlock it)")


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
        """Create the first administrator; refused once any account exists."""
        def body(s: Session) -> Principal:
            if accounts.user_count(s) != 0:
                raise Conflict("the administrator already exists; sign in instead")
            now = self.ctx.clock.now()
            user = accounts.create_user(s, self.passwords, username, password,
                                        frozenset({Role.ADMIN}), now)
            signing.create_user_key(s, user, password, now)
            self.ctx.trail.append(s, user=SYSTEM.username, role="", action="user.add",
                                  obj=f"user:{user.username}", new={"roles": ["admin"]},
                                  reason="first run: administrator created")
            self.ctx.trail.append(s, user=user.username, role="", action="login",
                                  obj=f"user:{user.username}")
            return self._principal(user)

        return self.ctx.write(body)

    def login(self, *, username: str, password: str) -> Principal:
        """Check the password; raises AuthenticationError with one message for every failure."""
        max_failures = self._max_failures()

        def body(s: Session) -> tuple[Principal | None, str]:
            out = accounts.check_login(s, self.passwords, username, password, max_failures)
            name = out.user.username if out.user else username[:64]
            if out.ok:
                assert out.user is not None
                self.ctx.trail.append(s, user=name, role="", action="login", obj=f"user:{name}",
                                      new={"rehashed": True} if out.rehashed else None)
                return self._principal(out.user), ""
            reason = ("account locked" if out.was_locked else
                      "unknown user" if out.user is None else "wrong password")
            self.ctx.trail.append(s, user=name, role="", action="login", obj=f"user:{name}",
                                  reason=reason, result="refused")
            if out.locked_now:
                self.ctx.trail.append(s, user="system", role="", action="user.lock",
                                      obj=f"user:{name}", new={"locked": True},
                                      reason=f"{max_failures} failed sign-ins in a row")
            return None, reason

        principal, _reason = self.ctx.write(body)
        if principal is None:
            raise AuthenticationError(LOGIN_FAILED)
        return principal

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
                     principal: Principal, password: str, obj: str, role: str):
    """Re-check the signer's password inside the caller's transaction; a failure is audited
    and counts toward lockout. Returns the account, or None if the password is wrong."""
    max_failures = int(get_setting(s, "security.max_failed_logins"))
    out = accounts.check_login(s, passwords, principal.username, password, max_failures)
    if out.ok and out.user is not None:
        return out.user
    ctx.trail.append(s, user=principal.username, role=role, action="esign", obj=obj,
                     result="refused", reason="password not confirmed")
    if out.locked_now:
        ctx.trail.append(s, user="system", role="", action="user.lock",
                         obj=f"user:{principal.username}", new={"locked": True},
                         reason=f"{max_failures} failed password entries")
    return None
