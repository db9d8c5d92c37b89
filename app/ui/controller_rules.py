"""When the Controllers page's buttons may be used, and why not (None: they may)."""

from __future__ import annotations

from collections.abc import Callable

from app.core.roles import Action
from app.ui.permissions import ButtonRule

#: Why Rollback is greyed out for a controller whose status names no previous model.
NO_PREVIOUS = "no previous model to roll back to"


def controller_rules(*, busy: bool, target: str | None, has_approved: bool, scanning: bool,
                     has_endpoints: bool, watching: bool,
                     has_previous: bool = True) -> dict[str, ButtonRule]:
    """The rule of each button by name (``scan`` is ``scan_button``): ``busy`` while a flash
    or rollback runs, ``target`` the selected controller that answered the scan (or None),
    ``has_previous`` whether its status names a model to roll back to."""

    def on_controller(extra: Callable[[], str | None] = lambda: None):
        def rule() -> str | None:
            if target is None:
                return "select a controller that answered the scan"
            return extra()
        return rule

    def deploy_rule() -> str | None:
        if busy:
            return "a flash or rollback is running"
        if not has_approved:
            return "there is no approved model version to deploy"
        return None

    return {
        "scan": (
            Action.CONTROLLER_WATCH, "Scanning controllers",
            "Read identity and status at every endpoint in the list",
            lambda: "a scan is running" if scanning else
            ("add an endpoint first" if not has_endpoints else None)),
        "flash": (
            Action.CONTROLLER_DEPLOY, "Flashing a model",
            "Deploy an approved model version to the selected controller",
            on_controller(deploy_rule)),
        "rollback": (
            Action.CONTROLLER_ROLLBACK, "Rolling back",
            "Make the selected controller return to its previous model",
            on_controller(lambda: "a flash or rollback is running" if busy else
                          (None if has_previous else NO_PREVIOUS))),
        "watch": (
            Action.CONTROLLER_WATCH, "Watching a controller",
            "Show the selected controller's latest prediction and drift, every second",
            (lambda: None) if watching else on_controller()),
    }
