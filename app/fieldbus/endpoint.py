"""Where a Modbus device is: a TCP host and port, or a serial port with its framing."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import UsageError

DEFAULT_UNIT = 1
TCP, RTU = "tcp", "rtu"


@dataclass(frozen=True)
class Endpoint:
    """``tcp``: ``address`` is the host, ``port`` the TCP port. ``rtu``: ``address`` is the
    serial port name (``COM3``, ``/dev/ttyUSB0``) with ``baud``, ``bytesize``, ``parity``
    (N, E, O) and ``stopbits``. ``unit`` is the Modbus unit (device) id."""

    kind: str
    address: str
    port: int = 502
    baud: int = 115200
    bytesize: int = 8
    parity: str = "N"
    stopbits: int = 1
    unit: int = DEFAULT_UNIT

    @classmethod
    def tcp(cls, host: str, port: int = 502, unit: int = DEFAULT_UNIT) -> Endpoint:
        """A device on Modbus TCP."""
        return cls(TCP, host, port=port, unit=unit)

    @classmethod
    def rtu(cls, serial_port: str, baud: int = 115200, unit: int = DEFAULT_UNIT, *,
            bytesize: int = 8, parity: str = "N", stopbits: int = 1) -> Endpoint:
        """A device on Modbus RTU over a serial port."""
        return cls(RTU, serial_port, baud=baud, bytesize=bytesize, parity=parity,
                   stopbits=stopbits, unit=unit)

    @classmethod
    def parse(cls, text: str, unit: int = DEFAULT_UNIT) -> Endpoint:
        """``tcp:HOST:PORT`` or ``rtu:SERIAL_PORT:BAUD`` (e.g. ``rtu:/dev/ttyUSB0:115200``);
        raises UsageError."""
        kind, _, rest = text.partition(":")
        where, _, number = rest.rpartition(":")
        if kind not in (TCP, RTU) or not where or not number.isdigit():
            raise UsageError(f"{text!r} is not tcp:HOST:PORT or rtu:SERIAL_PORT:BAUD")
        if kind == TCP:
            return cls.tcp(where, int(number), unit)
        return cls.rtu(where, int(number), unit)

    def __str__(self) -> str:
        """For messages: ``tcp:127.0.0.1:502 unit 1`` or ``rtu:COM3@19200 8E1 unit 1``."""
        if self.kind == TCP:
            return f"tcp:{self.address}:{self.port} unit {self.unit}"
        return (f"rtu:{self.address}@{self.baud} {self.bytesize}{self.parity}{self.stopbits} "
                f"unit {self.unit}")
