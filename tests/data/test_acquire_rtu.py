"""Acquisition over Modbus RTU through a socat null-modem pair, and serial port listing."""

from __future__ import annotations

import shutil
import sys

import pytest

from app.core.clock import FakeClock
from app.core.progress import CancelToken
from app.data.acquire.loop import acquire
from app.data.tagmap.load import parse_tagmap
from app.devices.sim.simulator import ModbusSimulator
from app.devices.sim.tagmap import simulator_tagmap
from app.fieldbus import ExceptionResponse, LinkTimeout, SerialPort, list_serial_ports
from tests.nullmodem import NullModem

pytestmark = pytest.mark.skipif(
    shutil.which("socat") is None or sys.platform == "win32",
    reason="socat is not installed: apt-get install socat (the CI set-up installs it)")

BAUD = 115200


BUFFER = 128
PERIOD = BUFFER / 12_000.0


@pytest.fixture
def rtu(tmp_path, wave):
    # The device's own clock, moved by the test: a 10.7 ms buffer read over the pty cannot
    # be torn by the device writing the next one while a loaded machine reads slowly.
    clock = FakeClock(frozen=True)
    with NullModem(tmp_path) as cable, ModbusSimulator(waveform=wave, buffer_len=BUFFER,
                                                       clock=clock.monotonic) as sim:
        clock.advance(PERIOD / 2)  # mid-buffer: clear of rounding at the edges
        sim.start_rtu(str(cable.a), baudrate=BAUD)
        sim.clock = clock  # type: ignore[attr-defined]
        yield sim, cable
    assert not sim.running


def rtu_map(cable, **kw):
    return parse_tagmap(simulator_tagmap(serial_port=str(cable.b), baudrate=BAUD,
                                         poll_rate_hz=10.0, timeout_s=0.5, **kw))


def test_records_over_rtu(rtu, tmp_path):
    sim, cable = rtu
    token = CancelToken()
    rows, blocks = [], []

    def enough() -> None:
        if len(rows) >= 5 and len(blocks) >= 5:
            token.cancel()

    def on_block(name, t, v) -> None:
        blocks.append(len(v))
        sim.clock.advance(PERIOD)  # the device writes its next buffer once this one was read
        enough()
    res = acquire(rtu_map(cable, waveform_len=BUFFER), duration_s=None, cancel=token,
                  work_dir=tmp_path, on_row=lambda t, v: (rows.append(t), enough()),
                  on_block=on_block)
    assert res.end_reason == "stopped" and not res.interrupted
    tags = res.recording("tags")
    assert tags.num_rows == len(rows) >= 5 and tags.provenance["transport"] == "rtu"
    assert str(cable.b) in tags.provenance["device"]
    speed = tags.column("speed")
    assert ((speed >= 1794) & (speed <= 1800)).all()
    # Every buffer read over the serial line whole: none torn, none missed.
    st = res.stats
    assert st.blocks["vibration"] == len(blocks) >= 5 and st.torn_buffers["vibration"] == 0
    assert st.missed_buffers["vibration"] == 0
    assert res.recording("vibration").num_rows == len(blocks) * BUFFER
    res.discard()


def test_exception_02_over_rtu(rtu, tmp_path):
    sim, cable = rtu
    sim.faults.exceptions[("holding", 4)] = 2
    with pytest.raises(ExceptionResponse, match="exception 02 illegal data address"):
        acquire(rtu_map(cable), duration_s=1.0, work_dir=tmp_path)


def test_wrong_unit_id_times_out_over_rtu(rtu, tmp_path):
    _, cable = rtu
    with pytest.raises(LinkTimeout, match="unit 7"):
        acquire(rtu_map(cable, unit_id=7), duration_s=1.0, work_dir=tmp_path)


def test_serial_ports_are_listed():
    ports = list_serial_ports()
    assert isinstance(ports, list)
    assert all(isinstance(p, SerialPort) and p.device for p in ports)
