"""Edge runtime start-up: from process start to the Modbus port answering an identity read.

    python bench/bench_edge_startup.py [--python build/edge/venv/bin/python] [--runs 7]

Starts the controller runtime (``python -m app.devices.controller --tcp 127.0.0.1:PORT``)
``--runs`` times with a fresh state folder and reads the identity registers with a plain
pymodbus client as fast as it accepts connections; the time is from ``Popen`` to the first
valid answer. Baselines in the same run, with the same interpreter: a bare interpreter start
(``python -c pass``) and one that only imports the runtime's libraries (numpy,
onnxruntime, pymodbus' server, cryptography). Target (issue 10): under 2 s.

``--python`` picks the interpreter: by default the plantml-edge venv that
tests/devices/test_edge_wheel.py leaves in build/edge/venv if there is one (the lean install),
else this one (the workstation install, run from the repository).
"""

from __future__ import annotations

import argparse
import logging
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC
from pathlib import Path

from pymodbus.client import ModbusTcpClient

ROOT = Path(__file__).resolve().parents[1]
EDGE_VENV = ROOT / "build" / "edge" / "venv"
TARGET_S = 2.0
LIBRARIES = "import numpy, onnxruntime, pymodbus.server, cryptography.hazmat.primitives"
def _trust_file(path: Path) -> None:
    """A trust file as a plant has one: an engineer's, an approver's and a workstation's
    command key (fresh keys; the runtime refuses a trust file that could never verify)."""
    from datetime import datetime

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.packages.trust import TrustStore

    store, now = TrustStore(), datetime.now(UTC)
    for user, role in (("erin", "engineer"), ("alex", "approver"), ("workstation:bench",
                                                                     "operator")):
        store.add_key(Ed25519PrivateKey.generate().public_key(), user, [role], now)
    store.save(path)


def _edge_python() -> Path | None:
    for candidate in (EDGE_VENV / "bin" / "python", EDGE_VENV / "Scripts" / "python.exe"):
        if candidate.exists():
            return candidate
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(port: int) -> bool:
    client = ModbusTcpClient("127.0.0.1", port=port, timeout=1.0, retries=0)
    try:
        if not client.connect():
            return False
        resp = client.read_input_registers(0, count=2, device_id=1)
        return not resp.isError() and list(resp.registers) == [0x504C, 0x4D4C]  # 'PLML'
    except Exception:  # noqa: BLE001 - not up yet: any failure means "try again"
        return False
    finally:
        client.close()


def time_runtime(python: str, cwd: Path, tmp: Path, i: int) -> float:
    """Seconds from Popen to the first identity answer of one runtime start."""
    trust = tmp / "trust.json"
    _trust_file(trust)
    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen([python, "-m", "app.devices.controller", "--state-dir",
                             str(tmp / f"state{i}"), "--hardware-id", "BENCH-01", "--trust",
                             str(trust), "--tcp", f"127.0.0.1:{port}"], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while not _answers(port):
            if proc.poll() is not None:
                raise SystemExit(f"the runtime exited: {proc.stderr.read().decode()}")
            time.sleep(0.005)  # a bench polls; the figure's resolution is 5 ms
        return time.perf_counter() - t0
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def time_command(python: str, code: str, cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run([python, "-c", code], cwd=cwd, check=True)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--python", help="interpreter to start the runtime with")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args(argv)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # refused while starting: quiet
    edge = _edge_python()
    python = args.python or str(edge or sys.executable)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        # The lean install must not see this checkout's app/; the workstation one needs it.
        cwd = tmp if (args.python or edge) else ROOT
        rows = {"runtime": [], "bare": [], "libraries": []}
        time_runtime(python, cwd, tmp, -1)  # warm the file cache and the .pyc files
        for i in range(args.runs):  # interleaved, so load changes hit all three alike
            rows["runtime"].append(time_runtime(python, cwd, tmp, i))
            rows["bare"].append(time_command(python, "pass", cwd))
            rows["libraries"].append(time_command(python, LIBRARIES, cwd))
    med = {k: statistics.median(v) for k, v in rows.items()}
    worst = max(rows["runtime"])
    print(f"interpreter: {python}")
    print(f"start to Modbus answer: median {med['runtime']:.3f} s, worst {worst:.3f} s "
          f"over {args.runs} runs (target < {TARGET_S:.1f} s)")
    print(f"bare interpreter {med['bare']:.3f} s, its libraries imported "
          f"{med['libraries']:.3f} s; runtime / libraries = "
          f"{med['runtime'] / med['libraries']:.2f}")
    ok = worst < TARGET_S
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
