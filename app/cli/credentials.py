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


def ask_secret(prompt: str, env_name: str, what: str = "a password", *,
               read_env: bool = True) -> str:
    """A secret from the environment variable ``env_name`` (unless ``read_env`` is False),
    else asked once without echo."""
    value = os.environ.get(env_name) if read_env else None
    if value:
        return value
    if not sys.stdin or not sys.stdin.isatty():
        raise UsageError(f"no terminal to ask for {what}: set {env_name}")
    return getpass.getpass(prompt)


def ask_password(prompt: str = "Password: ", *, env: bool = True) -> str:
    """The password from the environment (unless ``env`` is False), else asked without echo."""
    return ask_secret(prompt, ENV_PASSWORD, read_env=env)


def ask_new_password(prompt: str, env_name: str) -> str:
    """A new password from ``env_name``, else asked twice on the terminal."""
    first = ask_secret(prompt, env_name, "the new password")
    if os.environ.get(env_name):
        return first
    if getpass.getpass("Repeat: ") != first:
        raise UsageError("the two passwords differ")
    return first
