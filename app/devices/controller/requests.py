"""The Modbus requests the controller decodes, as pymodbus custom PDUs: function codes 3, 4, 6
and 16 carried out, every other one answered with exception 01, a malformed request with
exception 03 (each with the function code + 0x80), another unit id ignored (RTU) or answered
0x0B (TCP). Registered through the server's ``custom_pdu`` hook, so pymodbus' own handlers of
other codes (17 "report server id", 43 "device identification", ...) never answer.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from pymodbus.constants import ExcCodes
from pymodbus.pdu import DecodePDU, ExceptionResponse, ModbusPDU

from app.fieldbus.limits import READ_REGISTERS, WRITE_REGISTERS

#: What the server does with a decoded request: a response, or NoSuchIdException (silence).
Handler = Callable[["ProtocolRequest", int], Awaitable[ModbusPDU]]

#: The function codes of docs/controller-protocol.md.
READ_HOLDING, READ_INPUT, WRITE_ONE, WRITE_MANY = 3, 4, 6, 16
SERVED = (READ_HOLDING, READ_INPUT, WRITE_ONE, WRITE_MANY)
#: RTU frame sizes of the standard requests pymodbus knows (for the ones the controller does
#: not serve, so it can still find where their frame ends and answer exception 01). Two of
#: them carry sub-functions whose request is a fixed size: diagnostics (8) and MEI (7).
_FIXED_SIZE = {8: 8, 43: 7}


class ProtocolRequest(ModbusPDU):
    """A request as received: the function code, what it asks for, and ``problem`` when it
    is malformed (answered with exception 03). ``handler`` is bound per server."""

    handler: ClassVar[Handler]
    problem: str = ""

    def decode(self, data: bytes) -> None:
        # Never raise: pymodbus would answer a decoding error with a bare 0x80 (no function).
        try:
            self.parse(data)
        except (struct.error, IndexError, ValueError) as exc:
            self.problem = f"malformed request: {exc}"

    def parse(self, data: bytes) -> None:
        """Fill address, count and registers from the PDU body (after the function code)."""

    async def datastore_update(self, context: Any, device_id: int) -> ModbusPDU:
        return await type(self).handler(self, device_id)


class ReadRequest(ProtocolRequest):
    """Functions 3 and 4: address and quantity, 1 to 125 registers."""

    rtu_frame_size = 8

    def parse(self, data: bytes) -> None:
        if len(data) != 4:
            raise ValueError(f"{len(data)} bytes after the function code; a read has 4")
        self.address, self.count = struct.unpack(">HH", data)
        if not 1 <= self.count <= READ_REGISTERS:
            self.problem = f"quantity {self.count} is not 1 to {READ_REGISTERS}"


class WriteOneRequest(ProtocolRequest):
    """Function 6: one register."""

    rtu_frame_size = 8

    def parse(self, data: bytes) -> None:
        if len(data) != 4:
            raise ValueError(f"{len(data)} bytes after the function code; function 6 has 4")
        self.address, value = struct.unpack(">HH", data)
        self.registers, self.count = [value], 1


class WriteManyRequest(ProtocolRequest):
    """Function 16: 1 to 123 registers, the byte count twice the quantity and equal to the
    data that follows."""

    rtu_byte_count_pos = 6

    def parse(self, data: bytes) -> None:
        self.address, self.count, byte_count = struct.unpack(">HHB", data[:5])
        body = data[5:]
        if not 1 <= self.count <= WRITE_REGISTERS:
            self.problem = f"quantity {self.count} is not 1 to {WRITE_REGISTERS}"
        elif byte_count != 2 * self.count or len(body) != byte_count:
            self.problem = (f"byte count {byte_count} for {self.count} registers and "
                            f"{len(body)} data bytes")
        else:
            self.registers = list(struct.unpack(f">{self.count}H", body))


class UnsupportedRequest(ProtocolRequest):
    """Any other function code: answered with exception 01 (illegal function)."""

    def parse(self, data: bytes) -> None:
        self.problem = ""  # its body is not looked at


_SERVED_CLASSES: dict[int, type[ProtocolRequest]] = {
    READ_HOLDING: ReadRequest, READ_INPUT: ReadRequest, WRITE_ONE: WriteOneRequest,
    WRITE_MANY: WriteManyRequest}


def _unsupported(code: int, handler: Handler, rtu: bool) -> type[ProtocolRequest] | None:
    attrs: dict[str, Any] = {"function_code": code, "handler": staticmethod(handler)}
    if rtu:
        # Without inter-frame timing (the serial driver gives none) an RTU frame of a code
        # nobody defined cannot be delimited: such a request is dropped like line noise.
        standard = DecodePDU.pdu_table.get(code, (None, None))[0]
        if standard is None:
            return None
        attrs["rtu_frame_size"] = _FIXED_SIZE.get(code, standard.rtu_frame_size)
        attrs["rtu_byte_count_pos"] = standard.rtu_byte_count_pos
    return type(f"Unsupported{code}Request", (UnsupportedRequest,), attrs)


def request_classes(handler: Handler, *, rtu: bool) -> list[type[ModbusPDU]]:
    """One class per function code 0..127 (on RTU: the codes an RTU frame can be found for),
    each calling ``handler(request, unit_id)``; pass them as the server's ``custom_pdu``."""
    out: list[type[ModbusPDU]] = []
    for code in range(0x80):
        if code in _SERVED_CLASSES:
            base = _SERVED_CLASSES[code]
            out.append(type(f"{base.__name__}{code}", (base,), {
                "function_code": code, "handler": staticmethod(handler)}))
        elif (cls := _unsupported(code, handler, rtu)) is not None:
            out.append(cls)
    return out


class _Answer(ModbusPDU):
    """A normal response; ``function_code`` is the request's."""

    def __init__(self, request: ProtocolRequest, body: bytes) -> None:
        super().__init__(dev_id=request.dev_id, transaction_id=request.transaction_id)
        self.function_code, self._body = request.function_code, body

    def encode(self) -> bytes:
        return self._body


def registers_read(request: ProtocolRequest, words: list[int]) -> ModbusPDU:
    """The answer to function 3 or 4: byte count, then the registers."""
    return _Answer(request, struct.pack(f">B{len(words)}H", 2 * len(words), *words))


def written(request: ProtocolRequest) -> ModbusPDU:
    """The answer to function 6 (address and value echoed) or 16 (address and quantity)."""
    second = request.registers[0] if request.function_code == WRITE_ONE else request.count
    return _Answer(request, struct.pack(">HH", request.address, second))


def refuse(request: ProtocolRequest, code: int) -> ExceptionResponse:
    """The exception response to ``request``: its function code + 0x80 and ``code``."""
    return ExceptionResponse(request.function_code, ExcCodes(code),
                             device_id=request.dev_id, transaction=request.transaction_id)
