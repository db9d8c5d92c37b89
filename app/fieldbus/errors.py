"""Errors of talking to a Modbus device, each naming the step, register and code when known."""

from __future__ import annotations

from typing import Any

from app.core.errors import PlantMLError


class DeviceError(PlantMLError):
    """A request to a Modbus device failed (no answer, exception response, link lost), or a
    protocol step on top of it did.

    ``step`` (e.g. "transfer"), ``register`` (start address), ``chunk`` (index),
    ``exception_code`` (Modbus) and ``status`` (what the device reported after the failure,
    when it could be read) say where and what; ``str()`` says it in words.
    """

    exit_code = 9

    def __init__(self, message: str, *, step: str | None = None, register: int | None = None,
                 chunk: int | None = None, exception_code: int | None = None,
                 status: Any = None) -> None:
        super().__init__(message)
        self.step, self.register, self.chunk = step, register, chunk
        self.exception_code, self.status = exception_code, status


class LinkTimeout(DeviceError):
    """The device did not answer (validly) within the timeout, after the allowed retries."""


class LinkLost(DeviceError):
    """The connection could not be opened or was lost (TCP reset, serial port gone)."""


class ExceptionResponse(DeviceError):
    """The device answered a Modbus exception response; ``exception_code`` says which and
    ``function`` is the function code of the request."""

    def __init__(self, message: str, *, function: int = 0, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.function = function


class DeviceRefused(ExceptionResponse):
    """An exception that is not worth retrying at once (all but 05 and 06)."""


class DeviceBusy(ExceptionResponse):
    """The device kept answering 05 or 06 (busy) past the retry limit."""
