"""The reference controller runtime: flash state machine, slots, inference, Modbus server.

The register map and codes it serves are :mod:`app.devices.protocol`'s."""

from app.devices.controller.faults import ServerFaults
from app.devices.controller.runtime import ControllerRuntime
from app.devices.controller.sensor import ReplaySensor
from app.devices.controller.serve import load_replay, serve
from app.devices.controller.server import ControllerServer, serve_serial, serve_tcp

__all__ = [
    "ControllerRuntime", "ControllerServer", "ReplaySensor", "ServerFaults", "load_replay",
    "serve", "serve_serial", "serve_tcp",
]
