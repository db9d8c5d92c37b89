"""Errors of a flash step or of the controller protocol on top of the Modbus link.

The link's own errors (no answer, link lost, exception responses) are the fieldbus ones in
:mod:`app.fieldbus.errors`; both kinds are :class:`~app.fieldbus.errors.DeviceError`.
"""

from __future__ import annotations

from app.core.errors import Cancelled, IntegrityError, UsageError
from app.fieldbus.errors import DeviceError, DeviceRefused

#: Anything that went wrong talking to a controller: a link error or a flash step. The name
#: callers of the flash client catch; it is the fieldbus base, so one ``except`` covers both.
ControllerError = DeviceError


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


class CommandRefused(DeviceRefused):
    """The controller refused a command or chunk for its proof or its session (protocol 2):
    ``code`` is the refusal's ErrorCode, the message the controller's own words."""

    code: int = 0


class SignerMissing(UsageError, ControllerError):
    """A command was to be sent without the workstation's command signer."""
