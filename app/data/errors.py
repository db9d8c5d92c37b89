"""Errors of the data layer: refused input files, invalid tag maps, and Modbus device faults."""

from __future__ import annotations

from app.core.errors import PlantMLError, UsageError


class ImportRefused(UsageError):
    """An input file cannot be imported at all (corrupt, unsupported or inconsistent).

    The message names the file and, where known, the line, row, column or field.
    """


class TagMapError(UsageError):
    """A tag map is malformed; the message names the tag, buffer or setting at fault."""


class DeviceError(PlantMLError):
    """A Modbus device could not be read (no answer, exception response, link lost)."""

    exit_code = 9


class DeviceTimeout(DeviceError):
    """The device did not answer a request within its timeout."""


class DeviceException(DeviceError):
    """The device answered with a Modbus exception response.

    ``code`` is the exception code (1 to 11), ``function`` the function code of the request.
    """

    def __init__(self, message: str, *, code: int, function: int) -> None:
        super().__init__(message)
        self.code = code
        self.function = function


class LinkLost(DeviceError):
    """The connection to the device broke (TCP reset, serial port gone)."""
