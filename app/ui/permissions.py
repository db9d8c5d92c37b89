"""What the signed-in user's roles allow, for greying out buttons (the services still check)."""

from __future__ import annotations

from app.core.principal import Principal
from app.core.roles import POLICY, Action, Role


def may(principal: Principal, action: Action) -> bool:
    """True if one of the principal's roles is allowed ``action`` by the policy table."""
    return bool(principal.roles & POLICY[action])


def refusal_text(principal: Principal, action: Action, what: str) -> str:
    """Why ``what`` is greyed out for this user, e.g. "Approving needs the approver role;
    you are signed in as erin (engineer)"."""
    needed = [r.value for r in Role if r in POLICY[action]]
    if len(needed) > 1:
        roles = ", ".join(needed[:-1]) + f" or {needed[-1]}"
    else:
        roles = needed[0] if needed else "a role nobody has"
    held = ", ".join(sorted(r.value for r in principal.roles)) or "no roles"
    return f"{what} needs the {roles} role; you are signed in as {principal.username} ({held})"
