"""Typed access to the settings table (values are JSON)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from app.store.schema import Setting

DEFAULTS: dict[str, Any] = {
    "audit.checkpoint_interval": 100,
    # OWASP's Argon2id baseline (m=19 MiB, t=2, p=1) raised a little; tests lower it.
    "security.argon2": {"time_cost": 3, "memory_cost": 65536, "parallelism": 1},
    "security.max_failed_logins": 5,
    "security.idle_lock_minutes": 15,
    "workstation.name": "",
}


def get_setting(session: Session, key: str) -> Any:
    """The stored value of ``key``, or its default."""
    row = session.get(Setting, key)
    if row is None:
        return DEFAULTS.get(key)
    return json.loads(row.value)


def set_setting(session: Session, key: str, value: Any) -> Any:
    """Store ``value`` under ``key``; returns the previous value."""
    old = get_setting(session, key)
    row = session.get(Setting, key)
    text = json.dumps(value, sort_keys=True)
    if row is None:
        session.add(Setting(key=key, value=text))
    else:
        row.value = text
    return old
