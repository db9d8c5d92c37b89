"""Serial ports on this machine (USB adapters, built-in COM ports), by name."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SerialPort:
    """A serial port the operating system lists."""

    device: str
    description: str
    hwid: str


def list_serial_ports() -> list[SerialPort]:
    """Serial ports present now, sorted by device name."""
    from serial.tools import list_ports

    return [SerialPort(p.device, p.description or "", p.hwid or "")
            for p in sorted(list_ports.comports(), key=lambda p: p.device)]
