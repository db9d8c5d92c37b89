"""Run a controller until stopped: `python -m app.devices.controller`, `plantml-edge serve`
(and the CLI's serve)."""

from __future__ import annotations

import argparse
import logging
import math
import os
import signal
import sys
import threading
import time
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from app.core.errors import IntegrityError, PlantMLError, UsageError
from app.devices.controller.runtime import ControllerRuntime
from app.devices.controller.sensor import ReplaySensor
from app.devices.controller.server import ControllerServer, serve_serial, serve_tcp
from app.fieldbus.endpoint import Endpoint
from app.packages.trust import TrustStore
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


def served_target(server: ControllerServer, *, tcp: str | None, serial: str | None,
                  baud: int) -> str:
    """The target a workstation reaches ``server`` at (``tcp:HOST:PORT`` or
    ``rtu:SERIAL_PORT:BAUD``, ``#unit=N`` for a unit other than 1)."""
    if tcp is not None:
        ep = Endpoint.tcp(tcp.rpartition(":")[0] or "127.0.0.1", server.port or 0, server.unit)
    else:
        assert serial is not None
        ep = Endpoint.rtu(serial, baud, server.unit)
    return ep.target


def add_serve_arguments(ap: argparse.ArgumentParser) -> None:
    """The options of ``plantml controller serve``, and a few more for services and tests."""
    ap.add_argument("--state-dir", required=True, type=Path, help="where the slots are kept")
    ap.add_argument("--hardware-id", required=True)
    ap.add_argument("--trust", required=True, type=Path,
                    help="pinned trusted keys (trust.json, 'plantml keys export')")
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--tcp", help="HOST:PORT (port 0 picks a free one)")
    where.add_argument("--serial", help="serial port for Modbus RTU, e.g. COM3 or /dev/ttyUSB0")
    ap.add_argument("--baud", type=int, default=115200)
    ap.add_argument("--unit", type=int, default=1,
                    help="Modbus unit id, 1 to 247 (on RTU every other unit is not answered)")
    ap.add_argument("--replay", type=Path, help="demo: .npz or .npy replayed as the sensor")
    ap.add_argument("--channel", action="append", help="npz key to replay (repeatable)")
    ap.add_argument("--channels", nargs="*", help="npz keys to replay (default: the first)")
    ap.add_argument("--rate", type=float, default=12000.0, help="replay sample rate, Hz")
    ap.add_argument("--speed", type=float, default=1.0, help="replay speed factor")
    ap.add_argument("--commit-deadline", type=int, default=60)
    ap.add_argument("--capture-ring", type=int, default=64,
                    help="latest raw windows kept for capture (1 to 4096)")
    ap.add_argument("--session-takeover", type=int, default=120,
                    help="seconds a transfer session's owner may be silent before another "
                    "master's signed BEGIN may take it over")
    ap.add_argument("--duration", type=float,
                    help="stop after this many seconds (default: until stopped)")
    ap.add_argument("--port-file", type=Path, help="write the TCP port here once listening")
    ap.add_argument("--log-level", default="WARNING")


MAX_DEADLINE_S = 86400


def _positive(name: str, value: float | None) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise UsageError(f"{name} must be a positive number of seconds or a factor, not "
                         f"{value}")


def check_args(args: argparse.Namespace) -> None:
    """Refuse what could not run, before anything starts: one sentence, naming the value.
    Raises UsageError or IntegrityError."""
    if args.tcp is not None:
        host, sep, port = args.tcp.rpartition(":")
        if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
            raise UsageError(f"--tcp {args.tcp}: expected HOST:PORT with a port 0 to 65535")
    if not 1 <= args.unit <= 247:
        raise UsageError(f"--unit {args.unit}: a Modbus unit id is 1 to 247")
    if args.serial is not None and args.baud <= 0:
        raise UsageError(f"--baud {args.baud}: a baud rate is a positive number")
    hw = args.hardware_id
    if not hw or len(hw) > 28 or not hw.isascii() or not hw.isprintable():
        raise UsageError(f"--hardware-id {hw!r}: a hardware id is 1 to 28 printable ASCII "
                         "characters")
    if not 1 <= args.commit_deadline <= MAX_DEADLINE_S:
        raise UsageError(f"--commit-deadline {args.commit_deadline}: the commit deadline is 1 "
                         f"to {MAX_DEADLINE_S} seconds")
    if not 1 <= args.session_takeover <= MAX_DEADLINE_S:
        raise UsageError(f"--session-takeover {args.session_takeover}: the takeover time is 1 "
                         f"to {MAX_DEADLINE_S} seconds")
    if not 1 <= args.capture_ring <= 4096:
        raise UsageError(f"--capture-ring {args.capture_ring}: the capture ring holds 1 to "
                         "4096 windows")
    _positive("--duration", args.duration)
    _positive("--rate", args.rate)
    _positive("--speed", args.speed)
    trust = Path(args.trust)
    if not trust.is_file():
        raise UsageError(f"the trust file {trust} does not exist (write it with 'plantml keys "
                         "export' on the workstation)")
    try:
        store = TrustStore.load(trust)
    except (PlantMLError, ValueError, TypeError, KeyError, AttributeError,
            RecursionError) as exc:
        raise IntegrityError(f"the trust file {trust} is not a PlantML trust file: "
                             f"{_sentence(exc)}") from None
    if not store.keys:
        raise IntegrityError(f"the trust file {trust} names no signing key, so no package "
                             "could ever be flashed (export it again with 'plantml keys "
                             "export')")


def _sentence(exc: BaseException) -> str:
    return str(exc).strip().rstrip(".") or type(exc).__name__


def _replay(args: argparse.Namespace, keys: list[str]) -> ReplaySensor | None:
    if not args.replay:
        return None
    try:
        return load_replay(args.replay, keys=keys or None, sample_rate=args.rate,
                           speed=args.speed)
    except KeyError:
        raise UsageError(f"the replay file {args.replay} has no channel "
                         f"{', '.join(map(repr, keys)) or 'to replay'}") from None
    except (OSError, ValueError, TypeError, EOFError, zipfile.BadZipFile) as exc:
        raise UsageError(f"the replay file {args.replay} is not a readable .npz or .npy "
                         f"recording ({_sentence(exc)})") from None


def _stop_on_signals(stop: threading.Event) -> None:
    # SIGBREAK is what Windows sends for Ctrl+Break (and what service wrappers may send).
    for name in ("SIGINT", "SIGTERM", "SIGBREAK"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), lambda *_: stop.set())


def run(args: argparse.Namespace, prog: str) -> int:
    """Serve as ``args`` say until SIGINT/SIGTERM; errors are one readable line, exit 2."""
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    keys = (args.channels or []) + (args.channel or [])
    try:
        check_args(args)  # refuse to start on a trust store no flash could pass, and more
        sensor = _replay(args, keys)
        runtime = ControllerRuntime(args.state_dir, args.hardware_id, args.trust,
                                    sensor=sensor, commit_deadline_s=args.commit_deadline,
                                    session_takeover_s=args.session_takeover,
                                    link_baud=args.baud if args.serial else 0,
                                    crash_at=os.environ.get(CRASH_ENV) or None,
                                    capture_ring=args.capture_ring)
        try:
            server = serve(runtime, tcp=args.tcp, serial=args.serial, baud=args.baud,
                           unit=args.unit)
        except BaseException:
            runtime.stop()
            raise
    except (PlantMLError, ValueError, RuntimeError, OSError, KeyError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    where = served_target(server, tcp=args.tcp, serial=args.serial, baud=args.baud)
    stop = threading.Event()
    _stop_on_signals(stop)
    try:
        if args.port_file is not None:
            try:
                durable_write(args.port_file, f"{server.port or 0}\n".encode())
            except OSError as exc:
                print(f"{prog}: error: the port file {args.port_file}: {exc}", file=sys.stderr)
                return 2
        print(f"controller {args.hardware_id} serving on {where}", flush=True)
        # A timed wait: on Windows a bare Event.wait() would not let the signal handler run.
        end = None if args.duration is None else time.monotonic() + args.duration
        while not stop.wait(0.5 if end is None else max(0.0, min(0.5, end - time.monotonic()))):
            if end is not None and time.monotonic() >= end:
                break
    finally:
        server.stop()
        runtime.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m app.devices.controller --state-dir ... --tcp HOST:PORT``."""
    prog = "python -m app.devices.controller"
    ap = argparse.ArgumentParser(prog=prog, description="PlantML reference controller runtime")
    add_serve_arguments(ap)
    return run(ap.parse_args(argv), prog)


def edge_parser() -> argparse.ArgumentParser:
    """The command line of ``plantml-edge``: ``serve`` with the options of
    ``plantml controller serve``."""
    ap = argparse.ArgumentParser(prog="plantml-edge",
                                 description="PlantML reference controller runtime")
    sub = ap.add_subparsers(dest="command", required=True)
    add_serve_arguments(sub.add_parser("serve", help="run a controller on TCP or a serial "
                                       "port until stopped"))
    return ap


def edge_main(argv: Sequence[str] | None = None) -> int:
    """``plantml-edge serve ...``: the console script of the plantml-edge distribution."""
    return run(edge_parser().parse_args(argv), "plantml-edge")
