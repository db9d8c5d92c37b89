"""The one Modbus link: bounded requests, 05/06 back-off, readable exceptions, endpoints."""

from __future__ import annotations

import ast
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core.errors import UsageError
from app.data.tagmap.model import Connection
from app.devices.sim.simulator import ModbusSimulator
from app.fieldbus import (
    BUSY,
    TRANSIENT,
    DeviceBusy,
    DeviceError,
    DeviceRefused,
    Endpoint,
    ExceptionCode,
    LinkLost,
    LinkTimeout,
    ModbusLink,
    RetryPolicy,
    describe_exception,
)

APP = Path(__file__).resolve().parents[2] / "app"


@pytest.fixture
def sim() -> Iterator[ModbusSimulator]:
    with ModbusSimulator() as simulator:
        simulator.start_tcp()
        yield simulator


def _link(sim: ModbusSimulator, policy: RetryPolicy, sleeps: list[float] | None = None):
    sleep = sleeps.append if sleeps is not None else time.sleep
    return ModbusLink(Endpoint.tcp("127.0.0.1", sim.port), policy, sleep=sleep)


def test_every_standard_exception_code_reads_as_text():
    for code in ExceptionCode:
        text = describe_exception(code)
        assert text.startswith(f"exception {int(code):02X} ") and ": " in text, text
    assert describe_exception(2).startswith("exception 02 illegal data address: the device")
    assert describe_exception(11).startswith("exception 0B gateway target device failed")
    assert describe_exception(12) == "exception 0C unknown exception code"
    assert {5, 6} == BUSY and {5, 6, 10, 11} == TRANSIENT


def test_endpoints_parse_and_name_themselves():
    assert Endpoint.parse("tcp:127.0.0.1:5020") == Endpoint.tcp("127.0.0.1", 5020)
    rtu = Endpoint.parse("rtu:COM3:19200", unit=7)
    assert (rtu.kind, rtu.address, rtu.baud, rtu.unit) == ("rtu", "COM3", 19200, 7)
    assert str(Endpoint.parse("rtu:/dev/ttyUSB0:115200")) == "rtu:/dev/ttyUSB0@115200 8N1 unit 1"
    assert str(Endpoint.tcp("127.0.0.1", 502)) == "tcp:127.0.0.1:502 unit 1"
    for bad in ("127.0.0.1:502", "udp:h:1", "tcp:h:port", "rtu::9600"):
        with pytest.raises(UsageError, match="is not tcp:HOST:PORT"):
            Endpoint.parse(bad)
    conn = Connection(serial_port="COM4", baudrate=9600, parity="E", unit_id=3, timeout_s=0.4)
    assert conn.endpoint() == Endpoint.rtu("COM4", 9600, 3, parity="E")
    assert conn.retry_policy() == RetryPolicy(timeout_s=0.4, timeout_retries=0, busy_retries=0)
    assert Connection(port=1502).endpoint() == Endpoint.tcp("127.0.0.1", 1502)


def test_reads_every_table(sim):
    with _link(sim, RetryPolicy(timeout_s=1.0)) as link:
        assert len(link.read("holding", 0, 13)) == 13
        assert len(link.read_input(0, 4)) == 4
        bits = link.read("coil", 0, 3) + link.read("discrete", 0, 5)
        assert len(bits) == 8 and set(bits) <= {0, 1}
        assert link.stats.requests == 4 and link.stats.timeouts == 0


def test_busy_is_retried_with_doubling_back_off_then_raised(sim):
    sim.faults.exceptions[("holding", 3)] = 6
    sleeps: list[float] = []
    link = _link(sim, RetryPolicy(timeout_s=1.0, busy_retries=3, backoff_s=0.05), sleeps)
    with link, pytest.raises(DeviceBusy, match="after 4 tries") as info:
        link.read("holding", 0, 13)
    assert sleeps == [0.05, 0.1, 0.2]
    err = info.value
    assert (err.exception_code, err.function, err.register) == (6, 3, 0)
    assert "holding registers 0-12" in str(err) and "server device busy" in str(err)
    assert link.stats.busy_retries == 3 and link.stats.exceptions == {6: 4}


def test_busy_answer_that_clears_is_not_an_error(sim):
    sim.faults.exceptions[("holding", 3)] = 5
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        sim.faults.exceptions.clear()  # the device is ready after the first back-off

    link = ModbusLink(Endpoint.tcp("127.0.0.1", sim.port), RetryPolicy(timeout_s=1.0),
                      sleep=sleep)
    with link:
        assert len(link.read("holding", 0, 13)) == 13
    assert sleeps == [0.05]


def test_other_exceptions_are_refused_at_once_and_single_try_retries_nothing(sim):
    sim.faults.exceptions[("input", 2)] = 2
    sleeps: list[float] = []
    with _link(sim, RetryPolicy(timeout_s=1.0, busy_retries=6), sleeps) as link, \
            pytest.raises(DeviceRefused, match="exception 02 illegal data address") as info:
        link.read("input", 0, 4, what="status")
    assert info.value.step == "status" and info.value.exception_code == 2 and not sleeps
    assert isinstance(info.value, DeviceError)
    sim.faults.exceptions = {("holding", 0): 6}
    with _link(sim, RetryPolicy.single_try(1.0), sleeps) as link, \
            pytest.raises(DeviceBusy) as busy:
        link.read("holding", 0, 1)
    assert not sleeps and "tries" not in str(busy.value)


def test_no_answer_is_a_timeout_after_the_allowed_retries(sim):
    sim.faults.hang = True
    with _link(sim, RetryPolicy(timeout_s=0.2, timeout_retries=1)) as link, \
            pytest.raises(LinkTimeout, match=r"no answer within 0\.2 s \(tcp:127\.0\.0\.1:\d+ "
                                             r"unit 1, 2 tries\)"):
        link.read("holding", 0, 2)
    assert link.stats.timeouts == 2 and link.stats.reconnects == 2


def test_nobody_listening_is_link_lost():
    port = _free_port()
    link = ModbusLink(Endpoint.tcp("127.0.0.1", port), RetryPolicy.single_try(0.3))
    with pytest.raises(LinkLost, match=f"cannot connect to tcp:127.0.0.1:{port} unit 1"):
        link.connect()
    with pytest.raises(LinkLost, match="holding register 5: cannot connect"):
        link.read("holding", 5, 1)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_there_is_one_modbus_link_and_only_it_opens_pymodbus_clients():
    links, clients = [], []
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rel = str(path.relative_to(APP.parent))
        links += [rel for n in ast.walk(tree) if isinstance(n, ast.ClassDef)
                  and n.name.endswith("Link")]
        clients += [rel for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
                    and n.module == "pymodbus.client"]
    assert links == ["app/fieldbus/link.py"]
    assert clients == ["app/fieldbus/link.py"]
