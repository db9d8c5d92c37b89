"""15.10: the runtime answers only the function codes it documents; malformed requests get
exception 03 with the function code + 0x80; another unit id is ignored on RTU and answered
0x0B on TCP. Raw frames, over TCP and over a null-modem RTU link."""

from __future__ import annotations

import shutil
import socket
import struct
import time

import pytest
import serial

from app.devices.controller.server import serve_serial
from tests.devices.kit import make_runtime
from tests.nullmodem import NullModem

UNIT = 1
#: Well-formed requests of the standard function codes the controller does not serve (pymodbus
#: would answer them by itself: 17 reported "Pymodbus"), by code.
UNDOCUMENTED = {
    1: b"\x00\x00\x00\x01", 2: b"\x00\x00\x00\x01", 5: b"\x00\x00\xff\x00", 7: b"",
    8: b"\x00\x00\x12\x34", 11: b"", 12: b"", 15: b"\x00\x00\x00\x08\x01\xff", 17: b"",
    20: b"\x07\x06\x00\x01\x00\x00\x00\x01",
    21: b"\x09\x06\x00\x01\x00\x00\x00\x01\x12\x34", 22: b"\x00\x00\xff\xff\x00\x00",
    23: b"\x00\x00\x00\x01\x00\x00\x00\x01\x02\x00\x05", 24: b"\x00\x00",
    43: b"\x0e\x01\x00",
}
#: (request PDU, why it is malformed)
MALFORMED = [
    (b"\x03\x00\x00\x00\x00", "read of 0 registers"),
    (b"\x04\x00\x00\x00\xc8", "read of 200 registers"),
    (b"\x04\x00\x00", "read without a quantity"),
    (b"\x06\x00\x00", "function 6 without a value"),
    (b"\x10\x00\x00\x00\x02\x03\x00\x01\x00\x02", "byte count 3 for 2 registers"),
    (b"\x10\x00\x00\x00\x02\x04\x00\x01", "2 data bytes for 2 registers"),
    (b"\x10\x00\x00\x00\x00\x00", "write of 0 registers"),
]


def rtu_crc(frame: bytes) -> int:
    """Modbus CRC-16 (polynomial 0xA001, initial 0xFFFF), sent low byte first."""
    crc = 0xFFFF
    for byte in frame:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc

#: On RTU the frame's length comes from its function code (and byte count): a frame that is
#: shorter or longer than that fails its CRC like line noise and is not answered. These are
#: whole frames that still break the rules.
RTU_MALFORMED = [
    (b"\x03\x00\x00\x00\x00", "read of 0 registers"),
    (b"\x04\x00\x00\x00\xc8", "read of 200 registers"),
    (b"\x10\x00\x00\x00\x02\x02\x00\x01", "byte count 2 for 2 registers"),
    (b"\x10\x00\x00\x00\x00\x00", "write of 0 registers"),
    (b"\x10\x00\x00\x00\x82\x04\x00\x01\x00\x02", "write of 130 registers"),
]


def tcp_request(port: int, unit: int, pdu: bytes, tid: int = 7, wait_s: float = 0.5) -> bytes:
    """One raw Modbus/TCP request; the PDU of the answer (b'' if none came)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait_s) as s:
        s.sendall(struct.pack(">HHHB", tid, 0, len(pdu) + 1, unit) + pdu)
        try:
            head = s.recv(7)
        except TimeoutError:
            return b""
        if len(head) < 7:
            return b""
        got_tid, proto, length, got_unit = struct.unpack(">HHHB", head)
        assert (got_tid, proto, got_unit) == (tid, 0, unit)
        body = b""
        while len(body) < length - 1:
            body += s.recv(length - 1 - len(body))
        return body


@pytest.fixture
def tcp_port(controller):
    return controller.endpoint.port


def test_tcp_undocumented_function_codes_are_illegal_functions(tcp_port):
    for code, body in [*UNDOCUMENTED.items(), (0x41, b"\x00"), (0x64, b""), (0x7F, b"\x01")]:
        assert tcp_request(tcp_port, UNIT, bytes([code]) + body) == \
            bytes([code | 0x80, 0x01]), code
    # Report server id: no "Pymodbus" (or anything else) about the implementation.
    assert b"Pymodbus" not in tcp_request(tcp_port, UNIT, b"\x11")


@pytest.mark.parametrize(("pdu", "why"), MALFORMED, ids=[w for _, w in MALFORMED])
def test_tcp_malformed_requests_get_exception_03_of_their_function(tcp_port, pdu, why):
    assert tcp_request(tcp_port, UNIT, pdu) == bytes([pdu[0] | 0x80, 0x03])


def test_tcp_documented_requests_still_work(tcp_port):
    answer = tcp_request(tcp_port, UNIT, b"\x04\x00\x00\x00\x02")
    assert answer == b"\x04\x04PLML"
    assert tcp_request(tcp_port, UNIT, b"\x04\x00\x32\x00\x02") == b"\x84\x02"  # no register
    assert tcp_request(tcp_port, 0xFF, b"\x04\x00\x00\x00\x02") == b"\x04\x04PLML"


@pytest.mark.parametrize("unit", [0, 2, 7, 247])
def test_tcp_other_unit_ids_get_gateway_target_failed(tcp_port, unit):
    assert tcp_request(tcp_port, unit, b"\x04\x00\x00\x00\x02") == b"\x84\x0b"
    assert tcp_request(tcp_port, unit, b"\x11") == b"\x91\x0b"


# -- RTU -----------------------------------------------------------------------------------

@pytest.fixture
def rtu(kit, tmp_path):
    if shutil.which("socat") is None:
        pytest.skip("socat is not installed (apt-get install socat)")
    rt = make_runtime(kit, tmp_path / "rtu", link_baud=115200)
    with NullModem(tmp_path) as cable:
        server = serve_serial(rt, str(cable.a), 115200)
        port = serial.Serial(str(cable.b), 115200, timeout=0.3)
        try:
            yield port
        finally:
            port.close()
            server.stop()
            rt.stop()


def rtu_request(port: serial.Serial, unit: int, pdu: bytes, quiet_s: float = 0.3) -> bytes:
    """One raw RTU frame; the answer's PDU (CRC checked), b'' after ``quiet_s`` of silence."""
    port.reset_input_buffer()
    frame = bytes([unit]) + pdu
    port.write(frame + struct.pack("<H", rtu_crc(frame)))
    port.flush()
    deadline = time.monotonic() + quiet_s
    got = b""
    while time.monotonic() < deadline:
        got += port.read(port.in_waiting or 1)
        if len(got) >= 5 and (got[1] & 0x80 or _complete(got)):
            break
    if not got:
        return b""
    if got[1] & 0x80:
        got = got[:5]
    assert rtu_crc(got[:-2]) == struct.unpack("<H", got[-2:])[0], got.hex()
    assert got[0] == unit
    return got[1:-2]


def _complete(frame: bytes) -> bool:
    if frame[1] in (3, 4):
        return len(frame) >= 5 + frame[2]
    return len(frame) >= 8


def test_rtu_function_codes_exceptions_and_unit_ids(rtu):
    assert rtu_request(rtu, UNIT, b"\x04\x00\x00\x00\x02") == b"\x04\x04PLML"
    for code, body in UNDOCUMENTED.items():
        assert rtu_request(rtu, UNIT, bytes([code]) + body) == bytes([code | 0x80, 0x01]), code
    for pdu, why in RTU_MALFORMED:
        assert rtu_request(rtu, UNIT, pdu) == bytes([pdu[0] | 0x80, 0x03]), why
    for unit in (0, 2, 7, 247, 255):
        assert rtu_request(rtu, unit, b"\x04\x00\x00\x00\x02") == b"", unit
        assert rtu_request(rtu, unit, b"\x11") == b"", unit
    # Still answering after all that.
    assert rtu_request(rtu, UNIT, b"\x04\x00\x00\x00\x02") == b"\x04\x04PLML"
