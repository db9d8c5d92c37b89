"""Run a controller until stopped: `python -m app.devices.controller` (and the CLI's serve)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.devices.controller.runtime import ControllerRuntime
from app.devices.controller.sensor import ReplaySensor
from app.devices.controller.server import ControllerServer, serve_serial, serve_tcp
from app.store.durable import durable_write

log = logging.getLogger(__name__)

#: Tests set this to a crash point name (see FlashMachine.crash_point) to simulate a power cut.
CRASH_ENV = "PLANTML_CONTROLLER_CRASH_AT"


def load_replay(path: Path, *, keys: Sequence[str] | None = None, sample_rate: float = 12000.0,
                speed: float = 1.0, block: int | None = None) -> ReplaySensor:
    """A replay sensor from an ``.npz`` (one array per channel, e.g. CWRU's DE, FE, BA) or an
    ``.npy`` of shape (channels, samples)."""
    path = Path(path)
    if path.suffix == ".npy":
        data = np.load(path, allow_pickle=False)
    else:
        with np.load(path, allow_pickle=False) as npz:
            names = list(keys) if keys else list(npz.files)[:1]
            data = np.stack([np.asarray(npz[k], dtype=np.float32).reshape(-1) for k in names])
    return ReplaySensor(data, sample_rate, block=block, speed=speed)


def serve(runtime: ControllerRuntime, *, tcp: str | None = None, serial: str | None = None,
          baud: int = 115200, unit: int = 1) -> ControllerServer:
    """Start the runtime and serve it on ``HOST:PORT`` or a serial port; returns the server
    (stop it, then the runtime)."""
    if (tcp is None) == (serial is None):
        raise ValueError("serve on exactly one of tcp or serial")
    if tcp is not None:
        host, _, port = tcp.rpartition(":")
        return serve_tcp(runtime, host or "127.0.0.1", int(port), unit)
    assert serial is not None
    return serve_serial(runtime, serial, baud, unit)


def run_until_stopped(runtime: ControllerRuntime, stop: threading.Event, *,
                      port_file: Path | None = None, **where: object) -> None:
    """Serve until ``stop`` is set; writes the TCP port to ``port_file`` once listening."""
    server = serve(runtime, **where)  # type: ignore[arg-type]
    try:
        if port_file is not None:
            durable_write(port_file, f"{server.port or 0}\n".encode())
        stop.wait()
    finally:
        server.stop()
        runtime.stop()


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m app.devices.controller",
                                 description="PlantML reference controller runtime")
    ap.add_argument("--state-dir", required=True, type=Path)
    ap.add_argument("--hardware-id", required=True)
    ap.add_argument("--trust", required=True, type=Path, help="pinned trust store (trust.json)")
    ap.add_argument("--tcp", help="HOST:PORT (port 0 picks a free one)")
    ap.add_argument("--serial", help="serial port for Modbus RTU")
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--unit", type=int, default=1)
    ap.add_argument("--replay", type=Path, help="demo: .npz or .npy replayed as the sensor")
    ap.add_argument("--channels", nargs="*", help="npz keys to replay (default: the first)")
    ap.add_argument("--rate", type=float, default=12000.0, help="replay sample rate, Hz")
    ap.add_argument("--speed", type=float, default=1.0, help="replay speed factor")
    ap.add_argument("--commit-deadline", type=int, default=60)
    ap.add_argument("--port-file", type=Path)
    ap.add_argument("--log-level", default="WARNING")
    args = ap.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    sensor = load_replay(args.replay, keys=args.channels, sample_rate=args.rate,
                         speed=args.speed) if args.replay else None
    runtime = ControllerRuntime(args.state_dir, args.hardware_id, args.trust, sensor=sensor,
                                commit_deadline_s=args.commit_deadline,
                                link_baud=args.baud if args.serial else 0,
                                crash_at=os.environ.get(CRASH_ENV) or None)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    run_until_stopped(runtime, stop, port_file=args.port_file, tcp=args.tcp,
                      serial=args.serial, baud=args.baud, unit=args.unit)
    return 0
