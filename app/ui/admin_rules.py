"""Why an account or a key may not be changed now (None: it may), for the Administration page."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from app.core.records import UserInfo
from app.core.roles import Action
from app.services.keys import TrustedKey
from app.ui.permissions import ButtonRule

T = TypeVar("T")


def _selected(item: T | None, what: str, check: Callable[[T], str | None]
              ) -> Callable[[], str | None]:
    def rule() -> str | None:
        if item is None:
            return f"select {what} first"
        return check(item)
    return rule


def admin_rules(user: UserInfo | None, key: TrustedKey | None, *, me: str,
                busy: bool) -> dict[str, ButtonRule]:
    """The rule of each action button of the Administration page by button name
    (``add`` is ``add_button``), for the selected account ``user`` and key ``key``; ``me``
    is the signed-in user's name."""

    def idle(_item: object = None) -> str | None:
        return "a job is running" if busy else None

    def resettable(info: UserInfo) -> str | None:
        if info.username == me:
            # Resetting one's own password would retire one's own key with nobody to hand
            # the temporary password to: another administrator does it.
            return "this is your own account; another administrator resets it"
        return idle()

    def unlockable(info: UserInfo) -> str | None:
        if not info.locked and not info.failed_attempts:
            return f"{info.username} is not locked"
        return idle()

    def revocable(k: TrustedKey) -> str | None:
        if k.revoked:
            return f"key {k.key_id} is already revoked"
        return idle()

    return {
        "add": (Action.USER_ADD, "Adding a user",
                "Create an account with its roles and its signing key", idle),
        "roles": (Action.USER_SET_ROLES, "Changing roles",
                  "Replace the roles of the selected account",
                  _selected(user, "an account", lambda _u: idle())),
        "reset": (Action.USER_SET_PASSWORD, "Resetting a password",
                  "Give the selected user a one-time password; they choose their own at the "
                  "next sign-in", _selected(user, "an account", resettable)),
        "unlock": (Action.USER_UNLOCK, "Unlocking an account",
                   "Clear the lockout and the failed sign-in attempts of the selected account",
                   _selected(user, "an account", unlockable)),
        "export_keys": (Action.KEYS_MANAGE, "Exporting the trusted keys",
                        "Write the trust file (public keys and release counters) that every "
                        "controller and other workstation needs, e.g. to a USB stick", idle),
        "import_keys": (Action.KEYS_MANAGE, "Importing trusted keys",
                        "Trust the keys (and revocations) of another workstation's trust file",
                        idle),
        "revoke": (Action.KEYS_MANAGE, "Revoking a key",
                   "Revoke the selected key: packages it signed are refused from now on",
                   _selected(key, "a key", revocable)),
    }
