"""Acquisition loop request rate as a ratio to a bare pymodbus client doing the same block
reads on loopback (target >= 0.9), timed alternately against one simulator process.

Run: python bench/bench_acquire.py [--seconds 1.5] [--rounds 8] [--tags 30]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pymodbus.client import ModbusTcpClient

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # works from a checkout even without `pip install -e .`

from app.data.acquire.loop import acquire  # noqa: E402
from app.data.acquire.tags import TagPoller  # noqa: E402
from app.data.tagmap.load import parse_tagmap  # noqa: E402
from app.devices.sim.tagmap import simulator_tagmap  # noqa: E402

# The device runs in its own process so that it does not share the GIL with either client.
_SERVER = """
import sys
from app.devices.sim.simulator import ModbusSimulator
with ModbusSimulator() as sim:
    print(sim.start_tcp(), flush=True)
    sys.stdin.read()
"""


def extra_tags(n: int) -> str:
    """``n`` more holding-register tags after the simulator's own (addresses 13..)."""
    kinds = ["uint16", "int16", "float32", "uint32"]
    out, addr = [], 13
    for i in range(n):
        kind = kinds[i % 4]
        out.append(f'[[tag]]\nname = "x{i}"\ntable = "holding"\naddress = {addr}\n'
                   f'type = "{kind}"\nscale = 0.5\n')
        addr += 2 if kind in ("float32", "uint32") else 1
    if addr > 64:
        raise SystemExit("--tags too large for the simulator's 64 holding registers")
    return "\n".join(out)


def bare_rate(port: int, reads, seconds: float) -> float:
    """Requests per second of a plain pymodbus client looping over the same reads."""
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=1.0, retries=0)
    client.connect()
    fns = {"holding": client.read_holding_registers, "input": client.read_input_registers,
           "coil": client.read_coils, "discrete": client.read_discrete_inputs}
    plan = [(fns[r.table], r.address, r.count) for r in reads]
    n = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        for fn, address, count in plan:
            rr = fn(address, count=count, device_id=1)
            if rr.isError():
                raise RuntimeError(rr)
            n += 1
    elapsed = time.perf_counter() - t0
    client.close()
    return n / elapsed


def loop_rate(tagmap, seconds: float, work: Path, reads: int) -> tuple[float, int]:
    """Requests per second of the acquisition loop (free-running, spooling every row),
    from the capture times of its first and last rows: the loop alone, without the
    set-up and finalizing around it."""
    res = acquire(tagmap, duration_s=seconds, work_dir=work, free_run=True)
    t = res.recording("tags").column("t")
    rows = len(t)
    rate = (rows - 1) * reads / (t[-1] - t[0])
    res.discard()
    return rate, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.5)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--tags", type=int, default=30, help="extra holding tags to decode")
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-c", _SERVER], cwd=REPO, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        port = int(server.stdout.readline())
        text = simulator_tagmap(port=port, poll_rate_hz=1000.0) + "\n" + extra_tags(args.tags)
        tm = parse_tagmap(text)
        reads = TagPoller(tm).reads
        print(f"tag map: {len(tm.tags)} tags in {len(reads)} reads per poll: " +
              ", ".join(f"{r.table} {r.address}+{r.count}" for r in reads))
        with tempfile.TemporaryDirectory(prefix="plantml-bench-") as tmp:
            work = Path(tmp)
            loop_rate(tm, 0.5, work, len(reads))  # warm-up: lazy imports, first connection
            bare_rate(port, reads, 0.5)
            bare, ours, rows = [], [], 0
            for i in range(args.rounds):
                # Pairs run back to back, the order alternating, so that load from other
                # processes on the machine hits both sides of a pair alike.
                first_bare = i % 2 == 0
                if first_bare:
                    bare.append(bare_rate(port, reads, args.seconds))
                rate, rows = loop_rate(tm, args.seconds, work, len(reads))
                ours.append(rate)
                if not first_bare:
                    bare.append(bare_rate(port, reads, args.seconds))
        b, o = statistics.median(bare), statistics.median(ours)
        pairs = [y / x for x, y in zip(bare, ours, strict=True)]
        print("pairs (bare/loop requests/s): " + ", ".join(
            f"{x:.0f}/{y:.0f}" for x, y in zip(bare, ours, strict=True)))
        print(f"bare pymodbus client:   {b:8.0f} requests/s (median)")
        print(f"acquisition loop:       {o:8.0f} requests/s (median; "
              f"{o / len(reads):.0f} rows/s decoded and spooled; last run {rows} rows)")
        print(f"request rate ratio {statistics.median(pairs):.3f} (median of pairs; "
              f"{sum(ours) / sum(bare):.3f} over all rounds; target >= 0.9)")
    finally:
        server.stdin.close()
        server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
