"""Modbus plumbing shared by acquisition (app.data) and the controller protocol (app.devices):
one link with bounded retries, endpoints, exception texts, the register codec, RTU timing.

Names are imported on first use (PEP 562): the controller runtime, a Modbus server, needs
the exception codes and endpoints but not the client link or the serial port listing, and
an edge box should not pay for importing them at start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.fieldbus.endpoint import DEFAULT_UNIT, Endpoint
    from app.fieldbus.errors import (
        DeviceBusy,
        DeviceError,
        DeviceRefused,
        ExceptionResponse,
        LinkLost,
        LinkTimeout,
    )
    from app.fieldbus.exceptions import BUSY, TRANSIENT, ExceptionCode, describe_exception
    from app.fieldbus.link import LinkStats, ModbusLink
    from app.fieldbus.policy import RetryPolicy
    from app.fieldbus.ports import SerialPort, list_serial_ports

#: Public name -> the module of this package that defines it.
_WHERE = {
    "DEFAULT_UNIT": "endpoint", "Endpoint": "endpoint",
    "DeviceBusy": "errors", "DeviceError": "errors", "DeviceRefused": "errors",
    "ExceptionResponse": "errors", "LinkLost": "errors", "LinkTimeout": "errors",
    "BUSY": "exceptions", "TRANSIENT": "exceptions", "ExceptionCode": "exceptions",
    "describe_exception": "exceptions",
    "LinkStats": "link", "ModbusLink": "link",
    "RetryPolicy": "policy",
    "SerialPort": "ports", "list_serial_ports": "ports",
}

__all__ = [
    "BUSY", "DEFAULT_UNIT", "TRANSIENT", "DeviceBusy", "DeviceError", "DeviceRefused",
    "Endpoint", "ExceptionCode", "ExceptionResponse", "LinkLost", "LinkStats", "LinkTimeout",
    "ModbusLink", "RetryPolicy", "SerialPort", "describe_exception", "list_serial_ports",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
