"""Acquisition over Modbus RTU through a socat null-modem pair, and serial port listing."""

from __future__ import annotations

import shutil
import sys

import pytest

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


@pytest.fixture
def rtu(tmp_path, wave):
    with NullModem(tmp_path) as cable, ModbusSimulator(waveform=wave, buffer_len=128) as sim:
        sim.start_rtu(str(cable.a), baudrate=BAUD)
        yield sim, cable
    assert not sim.running


def rtu_map(cable, **kw):
    return parse_tagmap(simulator_tagmap(serial_port=str(cable.b), baudrate=BAUD,
                                         poll_rate_hz=10.0, timeout_s=0.5, **kw))


def test_records_over_rtu(rtu, tmp_path):
    sim, cable = rtu
    res = acquire(rtu_map(cable, waveform_len=128), duration_s=1.5, work_dir=tmp_path)
    assert res.end_reason == "duration" and not res.interrupted
    tags = res.recording("tags")
    assert tags.num_rows >= 10 and tags.provenance["transport"] == "rtu"
    assert str(cable.b) in tags.provenance["device"]
    speed = tags.column("speed")
    assert ((speed >= 1794) & (speed <= 1800)).all()
    assert res.recording("vibration").num_rows >= 128
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
