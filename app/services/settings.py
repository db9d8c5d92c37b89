"""Workspace settings, changed only by an administrator and audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from app.audit.expected import INTERVAL_SETTING, MAX_INTERVAL
from app.core.errors import UsageError
from app.core.principal import Principal
from app.core.roles import Action, Role
from app.services.base import ServiceContext
from app.store.settings import DEFAULTS, get_setting, set_setting


class SettingsService:
    """Read and change workspace settings."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def get(self, key: str) -> Any:
        """Current value of ``key`` (settings are not secret)."""
        _check_key(key)
        with self.ctx.db.reader() as s:
            return get_setting(s, key)

    def set(self, principal: Principal, *, key: str, value: Any, reason: str = "") -> Any:
        """Change a setting; returns the previous value. Takes effect at the next start."""
        _check_key(key)
        default = DEFAULTS[key]
        if type(value) is not type(default):
            raise UsageError(f"setting {key} takes a {type(default).__name__}, "
                             f"not {type(value).__name__}")

        problem = _out_of_range(key, value)
        if problem:
            role = self.ctx.authorize(principal, Action.SETTINGS_CHANGE, f"setting:{key}")
            self.ctx.audit_outcome(principal, role.value, Action.SETTINGS_CHANGE.value,
                                   f"setting:{key}", result="refused", reason=problem,
                                   new=value)
            raise UsageError(problem)

        def change(s: Session, _role: Role):
            old = set_setting(s, key, value)
            return old, value, old

        return self.ctx.audited(principal, Action.SETTINGS_CHANGE, f"setting:{key}", change,
                                reason=reason)


def _check_key(key: str) -> None:
    if key not in DEFAULTS:
        raise UsageError(f"unknown setting {key!r}; known: {', '.join(sorted(DEFAULTS))}")


#: Settings whose value must stay within bounds (verification relies on them).
_RANGES = {INTERVAL_SETTING: (1, MAX_INTERVAL), "security.max_failed_logins": (1, 100),
           "security.idle_lock_minutes": (1, 24 * 60)}


def _out_of_range(key: str, value: Any) -> str:
    bounds = _RANGES.get(key)
    if bounds is None or bounds[0] <= value <= bounds[1]:
        return ""
    return f"setting {key} must be from {bounds[0]} to {bounds[1]}, not {value}"
