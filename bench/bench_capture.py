"""Capture throughput (issue 12 must-show): windows read from the reference controller's capture
ring (HR 1000-, protocol 3) over Modbus TCP on loopback and over RTU at 115200 baud through the
line simulator, as a fraction of the function-3/4 ceiling at that rate.

The ceiling: on RTU, 250 data bytes (125 registers, the most one read carries) per read
transaction (8-byte request, 255-byte answer, two 3.5-character gaps, 11-bit characters); on
TCP, 250 bytes times the rate of bare back-to-back 125-register function-3 reads from the same
server in the same run. The ring is filled with synthetic 2048-sample windows (the reads are
what is measured, not the model).

    .venv/bin/python bench/bench_capture.py [--windows 64] [--rtu-windows 8]
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from app.devices.controller.engine import Prediction
from app.devices.controller.runtime import ControllerRuntime
from app.devices.controller.sensor import ReplaySensor
from app.devices.controller.server import ControllerServer
from app.devices.flash import ControllerClient, Endpoint, RetryPolicy
from app.devices.flash.capture import capture_from
from app.devices.protocol import registers as r
from app.devices.sim.linesim import LineSimulator
from app.fieldbus.limits import READ_REGISTERS
from app.fieldbus.timing import fc16_transaction_seconds, read_transaction_seconds

SAMPLES = 2048
RATE = 12_000.0


def filled_runtime(folder: Path, windows: int) -> ControllerRuntime:
    sensor = ReplaySensor(np.zeros((1, 4 * SAMPLES), dtype=np.float32), RATE)
    rt = ControllerRuntime(folder / "state", "BENCH-01", folder / "trust.json", sensor=sensor,
                           capture_ring=windows)
    rng = np.random.default_rng(0)
    for _ in range(windows):
        window = rng.normal(size=(1, SAMPLES)).astype(np.float32)
        result = Prediction(prediction=1.0, scores=np.array([0.1, 0.9]),
                            features=np.zeros(2), latency_s=0.001)
        rt.capture.add(rt, window, result)
        rt.inference_count += 1
    return rt


def protocol_fraction(baud: int) -> float:
    """What the capture protocol itself allows of the read ceiling for one window."""
    regs = 2 * SAMPLES
    reads = [READ_REGISTERS] * (regs // READ_REGISTERS) + \
        ([regs % READ_REGISTERS] if regs % READ_REGISTERS else [])
    t = fc16_transaction_seconds(2, baud) + read_transaction_seconds(r.CAPTURE_COUNT, baud) + \
        sum(read_transaction_seconds(n, baud) for n in reads)
    ceiling = 2 * READ_REGISTERS / read_transaction_seconds(READ_REGISTERS, baud)
    return 4 * SAMPLES / t / ceiling


def raw_reads_per_s(ep: Endpoint, n: int, policy: RetryPolicy) -> float:
    with ControllerClient.open(ep, policy) as c:
        c.link.read_holding(r.CAPTURE_DATA_BASE, READ_REGISTERS)
        t0 = time.perf_counter()
        for _ in range(n):
            c.link.read_holding(r.CAPTURE_DATA_BASE, READ_REGISTERS)
        return n / (time.perf_counter() - t0)


def timed_capture(ep: Endpoint, windows: int, policy: RetryPolicy) -> tuple[float, int, int]:
    with ControllerClient.open(ep, policy) as c:
        c.identity()
        t0 = time.perf_counter()
        got = capture_from(c, windows)
        dt = time.perf_counter() - t0
    assert not got.missed and len(got.windows) == windows, got.missed
    return dt, got.data_bytes, got.requests


def bench_tcp(folder: Path, windows: int) -> None:
    rt = filled_runtime(folder / "tcp", windows)
    rt.start()
    server = ControllerServer(rt)
    port = server.start_tcp("127.0.0.1", 0)
    ep, policy = Endpoint.tcp("127.0.0.1", port), RetryPolicy(timeout_s=5.0)
    try:
        results = []
        for _ in range(3):  # alternately, best of three of each
            raw = raw_reads_per_s(ep, 400, policy)
            dt, nbytes, requests = timed_capture(ep, windows, policy)
            results.append((raw, dt, nbytes, requests))
    finally:
        server.stop()
        rt.stop()
    raw = max(x[0] for x in results)
    dt, nbytes, requests = min((x[1], x[2], x[3]) for x in results)
    ceiling = raw * 2 * READ_REGISTERS
    rate = nbytes / dt
    print(f"TCP loopback: {windows} windows of {SAMPLES} float32 samples, {nbytes} bytes in "
          f"{dt:.3f} s ({requests} requests) = {rate:.0f} B/s")
    per_window = 2 + math.ceil(2 * SAMPLES / READ_REGISTERS)  # select, page, sample reads
    print(f"  function-3 ceiling here: {raw:.0f} bare 125-register reads/s = {ceiling:.0f} B/s; "
          f"capture = {rate / ceiling:.3f} of it (protocol maximum on TCP, where time is per "
          f"request: {2 * SAMPLES} registers in {per_window} requests = "
          f"{2 * SAMPLES / (per_window * READ_REGISTERS):.3f})")


def bench_rtu(folder: Path, windows: int, baud: int) -> None:
    if sys.platform == "win32":
        print("RTU: the line simulator needs Linux ptys; skipped")
        return
    ceiling = 2 * READ_REGISTERS / read_transaction_seconds(READ_REGISTERS, baud)
    rt = filled_runtime(folder / "rtu", windows)
    rt.start()
    policy = RetryPolicy(timeout_s=2.0)
    with LineSimulator(baud) as line:
        server = ControllerServer(rt)
        server.start_serial(line.device_port, baud)
        try:
            ep = Endpoint.rtu(line.client_port, baud)
            raw = raw_reads_per_s(ep, 40, policy)
            dt, nbytes, requests = timed_capture(ep, windows, policy)
        finally:
            server.stop()
            rt.stop()
    rate = nbytes / dt
    print(f"RTU at {baud} baud (line simulator: 11-bit characters, 3.5-character gaps): "
          f"{windows} windows, {nbytes} bytes in {dt:.2f} s ({requests} requests) = "
          f"{rate:.0f} B/s")
    print(f"  function-3/4 ceiling: 250 bytes per "
          f"{read_transaction_seconds(READ_REGISTERS, baud) * 1e3:.2f} ms read = "
          f"{ceiling:.0f} B/s; capture = {rate / ceiling:.3f} of it (protocol maximum "
          f"{protocol_fraction(baud):.3f}: select and page per window); bare 125-register "
          f"reads through the same line = {raw * 250 / ceiling:.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--windows", type=int, default=64)
    ap.add_argument("--rtu-windows", type=int, default=8)
    ap.add_argument("--baud", type=int, default=115200)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        bench_tcp(folder, args.windows)
        bench_rtu(folder, args.rtu_windows, args.baud)
    assert math.isfinite(protocol_fraction(args.baud))
    return 0


if __name__ == "__main__":
    sys.exit(main())
