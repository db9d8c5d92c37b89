"""Readable text for Modbus exception responses (codes 01 to 0B)."""

from __future__ import annotations

EXCEPTION_TEXT = {
    1: "illegal function: the device does not support this request",
    2: "illegal data address: the device has no such register or range; check the tag map",
    3: "illegal data value: the device refuses the request's quantity or value",
    4: "server device failure: the device failed while handling the request",
    5: "acknowledge: the device accepted the request but needs longer; try again later",
    6: "server device busy: the device is busy with a long command; try again later",
    8: "memory parity error: the device found corrupt memory while reading",
    10: "gateway path unavailable: the gateway has no path to this unit id",
    11: "gateway target device failed to respond: no answer behind the gateway",
}
#: Codes worth retrying on the next poll instead of stopping.
TRANSIENT = frozenset({5, 6, 10, 11})
FUNCTION_TEXT = {1: "read coils", 2: "read discrete inputs", 3: "read holding registers",
                 4: "read input registers"}


def exception_text(code: int) -> str:
    """'02 illegal data address: ...' for a known code, 'exception NN (unknown)' otherwise."""
    return f"{code:02X} {EXCEPTION_TEXT.get(code, 'unknown exception code')}"


def describe_exception(code: int, function: int, address: int, count: int, where: str) -> str:
    """Full message: what was asked of which device, and what the code means."""
    func = FUNCTION_TEXT.get(function & 0x7F, f"function {function & 0x7F}")
    span = f"{address}" if count == 1 else f"{address}-{address + count - 1}"
    return f"{where} answered exception {exception_text(code)} (to {func} {span})"
