"""Shared plumbing of the services: role check, one write transaction, audited refusals."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.audit.trail import AuditTrail
from app.core.clock import Clock
from app.core.errors import (
    PermissionDenied,
    PlantMLError,
    RegistryUnreachable,
    SecurityStateTampered,
    StorageError,
)
from app.core.principal import SYSTEM, Principal
from app.core.roles import Action, Role
from app.security.authz import require
from app.security.state import PARTS
from app.services.health import Health
from app.services.seal import SealKeeper, StateWatch
from app.store.blobs import BlobStore
from app.store.engine import Database

log = logging.getLogger(__name__)
T = TypeVar("T")


class ServiceContext:
    """What every service needs: database, blob store, audit trail, clock and health."""

    def __init__(self, db: Database, trail: AuditTrail, clock: Clock, health: Health,
                 blobs: BlobStore) -> None:
        self.db = db
        self.trail = trail
        self.clock = clock
        self.health = health
        self.blobs = blobs
        self.seal = SealKeeper(trail)

    def authorize(self, principal: Principal, action: Action, obj: str = "") -> Role:
        """The role under which ``principal`` acts; a refusal is audited, then raised."""
        try:
            return require(principal, action)
        except PermissionDenied as exc:
            self.audit_outcome(principal, "", action.value, obj, result="refused",
                               reason=str(exc))
            raise

    def write(self, fn: Callable[[Session], T]) -> T:
        """Run ``fn`` in one write transaction; storage failures are counted toward the
        read-only alarm and reported as :class:`StorageError`."""
        self.health.check_writable()
        try:
            with self.db.transaction() as session:
                watch = StateWatch(session)
                result = fn(session)
                session.flush()
                if watch.before is not None:
                    self.seal.after_change(session, watch.before)
        except SecurityStateTampered as exc:
            self.alarm(exc)
            raise
        except RegistryUnreachable:
            # The network, not the storage: no step toward the read-only alarm, and nothing
            # of the transaction was committed, so nothing was acknowledged.
            raise
        except PlantMLError as exc:
            if isinstance(exc, StorageError):
                self._storage_failed(exc)
                if self.health.read_only:
                    raise StorageError(f"{exc}. {self.health.alarm}") from exc
            raise
        except (OSError, SQLAlchemyError, sqlite3.Error) as exc:
            self._storage_failed(exc)
            alarm = f" {self.health.alarm}" if self.health.read_only else ""
            raise StorageError(f"the change was not saved ({exc}); nothing was changed."
                               f"{alarm}") from exc
        self.health.succeeded()
        return result

    def audited(self, principal: Principal, action: Action, obj: str,
                change: Callable[[Session, Role], tuple[Any, Any, T]], reason: str = "") -> T:
        """Check the role, then apply ``change`` and its audit event in one transaction.

        ``change(session, role)`` returns ``(old, new, result)``; ``old`` and ``new`` go into
        the audit event.
        """
        role = self.authorize(principal, action, obj)

        def body(session: Session) -> T:
            old, new, result = change(session, role)
            self.trail.append(session, user=principal.username, role=role.value,
                              action=action.value, obj=obj, old=old, new=new, reason=reason)
            return result

        return self.write(body)

    def audit_outcome(self, principal: Principal, role: str, action: str, obj: str, *,
                      result: str, reason: str = "", old: Any = None, new: Any = None) -> None:
        """Record a refusal or failure in a transaction of its own; never raises, since the
        caller is already reporting an error."""
        try:
            self.write(lambda s: self.trail.append(
                s, user=principal.username, role=role, action=action, obj=obj, old=old,
                new=new, reason=reason, result=result))
        except PlantMLError as exc:
            log.error("could not audit %s %s (%s): %s", action, result, reason, exc)

    def require_sealed(self, s: Session, parts: tuple[str, ...] = PARTS) -> None:
        """Refuse (raise SecurityStateTampered) unless ``parts`` of the stored security state
        match their seal; inside a write the refusal is audited as an alarm by :meth:`write`."""
        self.seal.check(s, parts)

    def checked_read(self, fn: Callable[[Session], T], parts: tuple[str, ...] = PARTS) -> T:
        """Run ``fn`` in a read session after checking ``parts`` of the security state; a
        mismatch is audited as an alarm and raised."""
        try:
            with self.db.reader() as s:
                self.seal.check(s, parts)
                return fn(s)
        except SecurityStateTampered as exc:
            self.alarm(exc)
            raise

    def alarm(self, exc: SecurityStateTampered) -> None:
        """Record that the security state was found tampered with (never raises)."""
        self.audit_outcome(SYSTEM, "", "security.alarm", "security-state", result="alarm",
                           reason=str(exc), new={"parts": list(exc.parts)})

    def _storage_failed(self, exc: BaseException) -> None:
        log.error("write failed: %s", exc)
        self.health.failed(str(exc))
