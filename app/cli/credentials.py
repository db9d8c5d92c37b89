"""How the CLI learns who is acting: PLANTML_USER and PLANTML_PASSWORD, or a prompt."""

from __future__ import annotations

import getpass
import os
import sys

from app.core.errors import UsageError

ENV_USER = "PLANTML_USER"
ENV_PASSWORD = "PLANTML_PASSWORD"


def ask_username(prompt: str = "User name: ") -> str:
    """The user name from the environment, else asked on the terminal."""
    name = os.environ.get(ENV_USER)
    if name:
        return name
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError(f"no terminal to ask for a user name: set {ENV_USER} and "
                         f"{ENV_PASSWORD}")
    return input(prompt).strip()


def ask_password(prompt: str = "Password: ", *, env: bool = True) -> str:
    """The password from the environment (unless ``env`` is False), else asked without echo."""
    if env:
        value = os.environ.get(ENV_PASSWORD)
        if value:
            return value
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError(f"no terminal to ask for a password: set {ENV_PASSWORD}")
    return getpass.getpass(prompt)


def ask_new_password(prompt: str, env_name: str) -> str:
    """A new password from ``env_name``, else asked twice on the terminal."""
    value = os.environ.get(env_name)
    if value:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError(f"no terminal to ask for the new password: set {env_name}")
    first = getpass.getpass(prompt)
    if getpass.getpass("Repeat: ") != first:
        raise UsageError("the two passwords differ")
    return first


def ask_secret(prompt: str, env_name: str) -> str:
    """A secret (a recovery code) from ``env_name``, else asked without echo."""
    value = os.environ.get(env_name)
    if value:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError(f"no terminal to ask for it: set {env_name}")
    return getpass.getpass(prompt)
