"""Modbus plumbing shared by acquisition (app.data) and the controller protocol (app.devices):
one link with bounded retries, endpoints, exception texts, the register codec, RTU timing."""

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

__all__ = [
    "BUSY", "DEFAULT_UNIT", "TRANSIENT", "DeviceBusy", "DeviceError", "DeviceRefused",
    "Endpoint", "ExceptionCode", "ExceptionResponse", "LinkLost", "LinkStats", "LinkTimeout",
    "ModbusLink", "RetryPolicy", "SerialPort", "describe_exception", "list_serial_ports",
]
