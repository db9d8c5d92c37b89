"""A serial line simulator for tests and benchmarks (Linux ptys): baud rate, RTU timing, faults."""

from app.devices.sim.linesim.relay import LineFaults, LineSimulator, LineStats

__all__ = ["LineFaults", "LineSimulator", "LineStats"]
