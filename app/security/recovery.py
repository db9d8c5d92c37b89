"""The administrator's one-time recovery code: printed once at ``plantml init``, kept only as
an Argon2id hash, used with ``plantml recover-admin`` by someone at the workstation."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from app.security.passwords import Passwords
from app.store.settings import get_setting, set_setting

SETTING = "security.recovery_code"
#: No 0/O, 1/I/L: the code is read off paper kept in the plant's safe.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUPS, GROUP_LEN = 5, 5  # 25 characters of 31: about 124 bits


def new_code() -> str:
    """A fresh random code, ``XXXXX-XXXXX-XXXXX-XXXXX-XXXXX``."""
    return "-".join("".join(secrets.choice(ALPHABET) for _ in range(GROUP_LEN))
                    for _ in range(GROUPS))


def normalize(code: str) -> str:
    """The code as it is hashed: upper case, without spaces or dashes."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def store_code(s: Session, passwords: Passwords, code: str, now: datetime) -> None:
    """Keep only the Argon2id hash of ``code`` (it replaces any earlier code)."""
    set_setting(s, SETTING, {"hash": passwords.hash(normalize(code)),
                             "created_at": now.isoformat()})


def has_code(s: Session) -> bool:
    """True if a recovery code was issued."""
    value = get_setting(s, SETTING)
    return isinstance(value, dict) and bool(value.get("hash"))


def check_code(s: Session, passwords: Passwords, code: str) -> bool:
    """True if ``code`` is the issued one (always spending the hash's time)."""
    value = get_setting(s, SETTING)
    stored = value.get("hash") if isinstance(value, dict) else None
    return passwords.verify(stored, normalize(code))
