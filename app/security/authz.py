"""Role checks: every service call asks here before it acts."""

from __future__ import annotations

from app.core.errors import PermissionDenied
from app.core.principal import Principal
from app.core.roles import Action, Role, acting_role, allowed_roles, role_conflict


def require(principal: Principal, action: Action) -> Role:
    """The role under which ``principal`` may perform ``action``.

    Raises :class:`PermissionDenied` naming the roles that may.
    """
    role = acting_role(principal.roles, action)
    conflict = role_conflict(principal.roles)
    if role is None and conflict is not None and allowed_roles(action) & principal.roles:
        raise PermissionDenied(f"{principal.username} may not {action.value}: {conflict}")
    if role is None:
        needed = ", ".join(sorted(r.value for r in allowed_roles(action)))
        raise PermissionDenied(f"{principal.username} may not {action.value}: that needs the "
                               f"role {needed}")
    return role
