"""Modbus exception codes (01 to 0B): names, what they mean, and which are worth retrying."""

from __future__ import annotations

from enum import IntEnum


class ExceptionCode(IntEnum):
    """Exception codes of the Modbus application protocol (V1.1b3, section 7)."""

    ILLEGAL_FUNCTION = 1
    ILLEGAL_DATA_ADDRESS = 2
    ILLEGAL_DATA_VALUE = 3
    SERVER_DEVICE_FAILURE = 4
    ACKNOWLEDGE = 5
    SERVER_DEVICE_BUSY = 6
    NEGATIVE_ACKNOWLEDGE = 7
    MEMORY_PARITY_ERROR = 8
    GATEWAY_PATH_UNAVAILABLE = 10
    GATEWAY_TARGET_FAILED = 11


#: What each code means, for any device; callers add what the device itself says.
MEANING = {
    ExceptionCode.ILLEGAL_FUNCTION: "the device does not support this request",
    ExceptionCode.ILLEGAL_DATA_ADDRESS: "the device has no such register or range, or it "
                                        "cannot be written there",
    ExceptionCode.ILLEGAL_DATA_VALUE: "the device refuses the request's quantity or value",
    ExceptionCode.SERVER_DEVICE_FAILURE: "the device could not carry out the request",
    ExceptionCode.ACKNOWLEDGE: "the device accepted the request but needs longer; try "
                               "again later",
    ExceptionCode.SERVER_DEVICE_BUSY: "the device is busy with a long command; try again later",
    ExceptionCode.NEGATIVE_ACKNOWLEDGE: "the device cannot perform the program function",
    ExceptionCode.MEMORY_PARITY_ERROR: "the device found corrupt memory while reading",
    ExceptionCode.GATEWAY_PATH_UNAVAILABLE: "the gateway has no path to this unit id",
    ExceptionCode.GATEWAY_TARGET_FAILED: "no answer from the device behind the gateway",
}
NAME = {code: code.name.lower().replace("_", " ") for code in ExceptionCode}
NAME[ExceptionCode.GATEWAY_TARGET_FAILED] = "gateway target device failed to respond"

#: The device asked for time: retried with back-off (the link's retry policy).
BUSY = frozenset({ExceptionCode.ACKNOWLEDGE, ExceptionCode.SERVER_DEVICE_BUSY})
#: Worth trying again on the next poll instead of stopping an acquisition.
TRANSIENT = BUSY | {ExceptionCode.GATEWAY_PATH_UNAVAILABLE, ExceptionCode.GATEWAY_TARGET_FAILED}


def exception_text(code: int) -> str:
    """'02 illegal data address: ...' for a known code, '0C unknown exception code' else."""
    if code in MEANING:
        return f"{code:02X} {NAME[ExceptionCode(code)]}: {MEANING[ExceptionCode(code)]}"
    return f"{code:02X} unknown exception code"


def describe_exception(code: int) -> str:
    """``exception 06 server device busy: ...`` for any code, known or not."""
    return f"exception {exception_text(code)}"
