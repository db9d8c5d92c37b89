"""What the signed-in user's roles allow, for greying out buttons (the services still check)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QAbstractButton

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


#: A button's rule: the action it needs, what it does (for the refusal), its help text, and
#: a function saying why it may not be used now (None when it may).
ButtonRule = tuple[Action, str, str, Callable[[], str | None]]


def refuse_unless_allowed(button: QAbstractButton, principal: Principal, action: Action,
                          what: str) -> bool:
    """Grey ``button`` out with the refusal as tooltip unless the role allows ``action``;
    True if it was refused."""
    if may(principal, action):
        return False
    button.setEnabled(False)
    button.setToolTip(refusal_text(principal, action, what))
    return True


def apply_rules(principal: Principal, rules: dict[QAbstractButton, ButtonRule]) -> None:
    """Enable each button its role and its rule allow; the tooltip says why not."""
    for button, (action, what, help_text, rule) in rules.items():
        if refuse_unless_allowed(button, principal, action, what):
            continue
        why = rule()
        button.setEnabled(why is None)
        button.setToolTip(help_text if why is None else f"{help_text}. Not now: {why}")
