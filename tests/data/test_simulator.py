"""The simulator starts and stops cleanly, on ephemeral ports, several at a time."""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from app.data.tagmap.model import Connection
from app.devices.sim.registers import RegisterModel
from app.devices.sim.simulator import ModbusSimulator
from app.fieldbus import LinkTimeout, ModbusLink


def test_start_stop_leaves_no_thread():
    before = set(threading.enumerate())
    sims = [ModbusSimulator() for _ in range(2)]
    ports = [s.start_tcp() for s in sims]
    assert len(set(ports)) == 2 and all(p > 0 for p in ports)
    for sim, port in zip(sims, ports, strict=True):
        conn = Connection(host="127.0.0.1", port=port, timeout_s=1.0)
        link = ModbusLink(conn.endpoint(), conn.retry_policy())
        link.connect()
        assert len(link.read("holding", 0, 13)) == 13
        link.close()
        sim.stop()
        sim.stop()  # idempotent
    assert set(threading.enumerate()) <= before


def test_stop_releases_hung_requests():
    with ModbusSimulator() as sim:
        port = sim.start_tcp()
        sim.faults.hang = True
        conn = Connection(host="127.0.0.1", port=port, timeout_s=0.2)
        link = ModbusLink(conn.endpoint(), conn.retry_policy())
        link.connect()
        with contextlib.suppress(LinkTimeout):
            link.read("holding", 0, 1)
        link.close()
    assert not sim.running


def test_waveform_replay_follows_the_clock():
    now = [0.0]
    model = RegisterModel(np.arange(1000.0), 1000.0, 100, clock=lambda: now[0])
    regs = [0] * model.input_size
    model.refresh("input", 0, regs)
    assert regs[0] == 0
    now[0] = 0.35
    model.refresh("input", 0, regs)
    assert regs[0] == 3
    from app.fieldbus.codec import decode

    assert decode(np.array(regs[2:202]), "float32").tolist() == list(np.arange(300.0, 400.0))
