"""Errors a user can read; every front end shows their message and maps them to exit codes."""

from __future__ import annotations


class PlantMLError(Exception):
    """Base of all errors meant for the user; ``str(err)`` is the whole message."""

    exit_code = 1


class UsageError(PlantMLError):
    """The request itself is malformed (bad argument, missing option)."""

    exit_code = 2


class AuthenticationError(PlantMLError):
    """Who you are could not be established (wrong password, locked account)."""

    exit_code = 3


class PasswordChangeRequired(AuthenticationError):
    """The password is right but an administrator set it: the user must choose their own
    (and gets their new signing key) before anything else."""


class PermissionDenied(PlantMLError):
    """The signed-in user's roles do not allow the action."""

    exit_code = 4


class IntegrityError(PlantMLError):
    """Stored data failed a hash, chain or signature check."""

    exit_code = 5


class SecurityStateTampered(IntegrityError):
    """Roles, signing keys, the trust store or integrity settings differ from the state the
    audit trail sealed: they were changed outside PlantML."""

    def __init__(self, message: str, parts: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.parts = parts


class NotFound(PlantMLError):
    """The named object does not exist."""

    exit_code = 6


class Conflict(PlantMLError):
    """The request clashes with the current state (duplicate name, wrong lifecycle state)."""

    exit_code = 7


class StorageError(PlantMLError):
    """The workspace could not be written or read (disk full, I/O error, corrupt file)."""

    exit_code = 8


class WorkspaceReadOnly(StorageError):
    """Writes are refused after repeated storage failures until the cause is fixed."""


class WorkspaceVersionError(StorageError):
    """The workspace was written by a newer PlantML than this one."""


class RegistryUnreachable(StorageError):
    """The shared registry's server cannot be reached (refused, lost or shut down); the
    action in progress was not acknowledged and nothing of it was kept."""


class Cancelled(PlantMLError):
    """The user cancelled a long-running job."""

    exit_code = 130
