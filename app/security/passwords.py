"""Argon2id password hashing (argon2-cffi) with parameters from the workspace settings."""

from __future__ import annotations

from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.core.errors import UsageError

MIN_PASSWORD_LENGTH = 8


@dataclass(frozen=True)
class HashParams:
    """Argon2id cost parameters; raising them makes old hashes rehash at the next login."""

    time_cost: int = 3
    memory_cost: int = 65536
    parallelism: int = 1

    @classmethod
    def from_setting(cls, value: dict) -> HashParams:
        return cls(time_cost=int(value["time_cost"]), memory_cost=int(value["memory_cost"]),
                   parallelism=int(value["parallelism"]))


class Passwords:
    """Hash and check passwords; never logs or stores them in clear."""

    def __init__(self, params: HashParams) -> None:
        self._hasher = PasswordHasher(time_cost=params.time_cost,
                                      memory_cost=params.memory_cost,
                                      parallelism=params.parallelism, type=Type.ID)
        # Checked against when the user name is unknown, so that answer takes as long.
        self._dummy = self._hasher.hash("plantml-no-such-user")

    def hash(self, password: str) -> str:
        """A new Argon2id hash (with a fresh random salt) of ``password``."""
        check_strength(password)
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """True if ``password`` matches; with ``stored_hash`` None, spend the same time and
        return False."""
        try:
            return self._hasher.verify(stored_hash or self._dummy, password) and bool(stored_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        """True if ``stored_hash`` was made with other parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored_hash)


def check_strength(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UsageError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
