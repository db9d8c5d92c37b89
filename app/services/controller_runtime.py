"""Running the reference controller runtime from PlantML itself (``plantml controller serve``
and the demo): the same runtime an edge box in the plant runs."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.devices.controller.capture import DEFAULT_DEPTH
from app.devices.controller.runtime import ControllerRuntime
from app.devices.controller.sensor import ReplaySensor
from app.devices.controller.serve import add_serve_arguments, load_replay, serve, served_target
from app.devices.controller.serve import run as run_serve
from app.devices.controller.server import ControllerServer
from app.fieldbus import DEFAULT_UNIT

__all__ = ["RunningController", "add_serve_arguments", "run_serve", "start_controller"]


@dataclass
class RunningController:
    """A started runtime and its Modbus server; :meth:`stop` stops both."""

    runtime: ControllerRuntime
    server: ControllerServer
    target: str

    def stop(self) -> None:
        """Stop serving, then stop the runtime."""
        self.server.stop()
        self.runtime.stop()

    def __enter__(self) -> RunningController:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_controller(*, state_dir: Path, hardware_id: str, trust: Path,
                     tcp: str | None = None, serial: str | None = None, baud: int = 115200,
                     replay: Path | np.ndarray | None = None, channels: list[str] | None = None,
                     sample_rate: float = 12_000.0, commit_deadline_s: int = 60,
                     unit: int = DEFAULT_UNIT, capture_ring: int = DEFAULT_DEPTH
                     ) -> RunningController:
    """Start the runtime on ``tcp`` (HOST:PORT, port 0 picks one) or a serial port, answering
    as Modbus unit ``unit`` (on RTU it stays silent to every other unit, as a slave on a
    shared bus does); in demo mode ``replay`` (an .npz/.npy file or a (channels, samples)
    array) is its sensor. ``target`` says where to reach it, unit id included."""
    if isinstance(replay, np.ndarray):
        sensor = ReplaySensor(np.asarray(replay, dtype=np.float32).reshape(
            -1, replay.shape[-1]), sample_rate)
    elif replay is not None:
        sensor = load_replay(Path(replay), keys=channels, sample_rate=sample_rate)
    else:
        sensor = None
    runtime = ControllerRuntime(state_dir, hardware_id, trust, sensor=sensor,
                                commit_deadline_s=commit_deadline_s,
                                link_baud=baud if serial else 0, capture_ring=capture_ring)
    server = serve(runtime, tcp=tcp, serial=serial, baud=baud, unit=unit)
    return RunningController(runtime=runtime, server=server,
                             target=served_target(server, tcp=tcp, serial=serial, baud=baud))
