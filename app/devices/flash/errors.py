"""Errors of talking to a controller, each naming the step, register and chunk when known."""

from __future__ import annotations

from typing import Any

from app.core.errors import Cancelled, IntegrityError, PlantMLError, UsageError


class ControllerError(PlantMLError):
    """A request to a controller or a flash step failed.

    ``step`` (e.g. "transfer"), ``register`` (start address), ``chunk`` (index),
    ``exception_code`` (Modbus) and ``status`` (the controller's status read back after
    the failure, when it could be read) say where and what; ``str()`` says it in words.
    """

    def __init__(self, message: str, *, step: str | None = None, register: int | None = None,
                 chunk: int | None = None, exception_code: int | None = None,
                 status: Any = None) -> None:
        super().__init__(message)
        self.step, self.register, self.chunk = step, register, chunk
        self.exception_code, self.status = exception_code, status


class LinkTimeout(ControllerError):
    """The controller did not answer within the timeout, after the allowed retries."""


class LinkLost(ControllerError):
    """The connection could not be opened or was lost, after the allowed reconnects."""


class DeviceRefused(ControllerError):
    """The controller answered a Modbus exception that is not worth retrying (01-04, 07+)."""


class DeviceBusy(ControllerError):
    """The controller kept answering 05 or 06 (busy) past the retry limit."""


class ProtocolError(ControllerError):
    """The peer is not a PlantML controller of a protocol version this client speaks, or a
    page failed its CRC-32 every time it was read."""


class VerificationFailed(IntegrityError, ControllerError):
    """The controller's copy differs from the package (read-back or on-device check):
    the model was not activated."""


class FlashFailed(ControllerError):
    """A flash step failed on the controller (self-test, activation, commit); the controller
    keeps or went back to its previous model."""


class DoesNotFit(UsageError, ControllerError):
    """The package does not suit the controller: too large, too slow over this link, or
    another hardware id."""


class FlashCancelled(Cancelled, ControllerError):
    """The user cancelled the flash; the controller dropped the transfer."""
