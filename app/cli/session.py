"""Opening the workspace and signing in for one CLI command."""

from __future__ import annotations

from app.cli.credentials import ask_password, ask_username
from app.core.principal import Principal
from app.services import Services, open_services


def open_workspace(args) -> Services:
    """The workspace named by ``--home``, ``PLANTML_HOME`` or the default folder."""
    return open_services(args.home)


def sign_in(sv: Services) -> Principal:
    """Authenticate from the environment or a prompt."""
    return sv.auth.login(username=ask_username(), password=ask_password())
