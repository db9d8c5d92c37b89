"""Workspace settings, changed only by an administrator and audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

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

        def change(s: Session, _role: Role):
            old = set_setting(s, key, value)
            return old, value, old

        return self.ctx.audited(principal, Action.SETTINGS_CHANGE, f"setting:{key}", change,
                                reason=reason)


def _check_key(key: str) -> None:
    if key not in DEFAULTS:
        raise UsageError(f"unknown setting {key!r}; known: {', '.join(sorted(DEFAULTS))}")
