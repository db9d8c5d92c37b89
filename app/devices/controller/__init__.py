"""The PlantML controller protocol (register map) and the reference controller runtime."""

from app.devices.controller.codes import (
    Capability,
    Command,
    ErrorCode,
    StagedFlag,
    State,
    describe_exception,
)
from app.devices.controller.faults import ServerFaults
from app.devices.controller.runtime import ControllerRuntime
from app.devices.controller.sensor import ReplaySensor
from app.devices.controller.serve import load_replay, run_until_stopped, serve
from app.devices.controller.server import ControllerServer, serve_serial, serve_tcp

__all__ = [
    "Capability", "Command", "ControllerRuntime", "ControllerServer", "ErrorCode",
    "ReplaySensor", "ServerFaults", "StagedFlag", "State", "describe_exception", "load_replay",
    "run_until_stopped", "serve", "serve_serial", "serve_tcp",
]
