"""The signed-in user as the services see it."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.core.roles import Role


@dataclass(frozen=True)
class Principal:
    """A successfully authenticated user; services receive it with every call."""

    user_id: int
    username: str
    roles: frozenset[Role]
    session_id: str = field(default="")

    def has(self, role: Role) -> bool:
        """True if the user holds ``role``."""
        return role in self.roles


#: The identity recorded for events the system itself causes (start-up, clock checks).
SYSTEM = Principal(user_id=0, username="system", roles=frozenset())
