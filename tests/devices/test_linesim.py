"""The line simulator paces bytes at the baud rate with RTU gaps, and injects its faults."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import serial

from app.devices.sim.linesim import LineSimulator
from tests.devices.kit import PATIENCE_S, wait_for

BAUD = 19200
CHAR = 11 / BAUD


@pytest.fixture
def line() -> Iterator[tuple[LineSimulator, serial.Serial, serial.Serial]]:
    with LineSimulator(BAUD, seed=1) as sim:
        a = serial.Serial(sim.client_port, BAUD, timeout=0.01)
        b = serial.Serial(sim.device_port, BAUD, timeout=0.01)
        try:
            yield sim, a, b
        finally:
            a.close()
            b.close()


def receive(port: serial.Serial, n: int, timeout: float = PATIENCE_S) -> tuple[bytes, float]:
    got, deadline = b"", time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got += port.read(n - len(got))
    return got, time.monotonic()


def test_a_frame_takes_its_time_on_the_line(line):
    _, a, b = line
    frame = bytes(range(200))
    t0 = time.monotonic()
    a.write(frame)
    got, t1 = receive(b, len(frame))
    assert got == frame
    # Never early; how late a loaded machine runs the relay is bench/bench_flash.py's
    # business (RTU payload rate against the line's ceiling), not a test's.
    assert t1 - t0 >= len(frame) * CHAR


def test_an_answer_waits_for_the_gap(line):
    _, a, b = line
    # Timed from before the request is written: a busy machine can only make the test see
    # the request later, never the line deliver request, gap and answer sooner than
    # 20 + 3.5 + 20 character times.
    t0 = time.monotonic()
    a.write(b"x" * 20)
    receive(b, 20)
    b.write(b"y" * 20)
    got, t_answer = receive(a, 20)
    assert got == b"y" * 20
    assert t_answer - t0 >= (20 + 3.5 + 20) * CHAR * 0.95


def test_cut_drops_and_stuck_holds(line):
    sim, a, b = line
    sim.faults.cut = True
    a.write(b"lost")
    assert receive(b, 4, timeout=0.2)[0] == b""
    sim.faults.cut = False
    sim.faults.stuck = True
    a.write(b"held")
    assert receive(b, 4, timeout=0.2)[0] == b""
    sim.release()
    assert receive(b, 4)[0] == b"held"
    assert sim.stats.dropped == 4


def test_delay_applies_to_answers(line):
    sim, a, b = line
    sim.faults.delay_s = 0.2
    t0 = time.monotonic()  # before the write: the relay may take the bytes at once
    b.write(b"late")
    got, t1 = receive(a, 4)
    assert got == b"late" and t1 - t0 >= 0.2


@pytest.mark.parametrize("mode", ["flip", "insert", "truncate"])
def test_noise_damages_frames(line, mode):
    sim, a, b = line
    sim.faults.noise, sim.faults.noise_modes = 1.0, (mode,)
    frame = bytes(range(1, 41))
    a.write(frame)
    # However the frame was damaged, the relay counts the bytes it put on the line: read
    # exactly those.
    wait_for(lambda: sim.stats.taken[0], lambda n: n == len(frame), "the frame on the line")
    assert sim.stats.frames[0] == 1
    got, _ = receive(b, sim.stats.bytes[0])
    assert len(got) == sim.stats.bytes[0]
    assert got != frame and sim.stats.damaged == 1
    if mode == "truncate":
        assert len(got) < len(frame)
    elif mode == "insert":
        assert len(got) > len(frame)
