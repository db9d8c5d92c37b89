"""Where a Modbus device is: a TCP host and port, or a serial port with its framing, and the
unit id it answers to; the one parser of the target syntax."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import UsageError

DEFAULT_UNIT = 1
#: Unit ids a Modbus slave may have (0 is the broadcast address, 248-255 are reserved).
UNITS = range(1, 248)
TCP, RTU = "tcp", "rtu"
#: What follows a target to name another unit id than 1: ``rtu:COM3:19200#unit=3``.
UNIT_MARK = "#unit="
#: The target syntax, for messages and help texts.
SYNTAX = "tcp:HOST:PORT or rtu:SERIAL_PORT:BAUD, optionally followed by #unit=N (1 to 247)"


def _number(text: str) -> int | None:
    """A plain decimal number (ASCII digits only), else None."""
    return int(text) if text.isascii() and text.isdigit() else None


def check_unit(unit: int, where: str) -> int:
    """``unit`` if it is a slave's unit id (1 to 247); else UsageError naming ``where``."""
    if unit not in UNITS:
        raise UsageError(f"{where}: unit id {unit} is not 1 to 247 (0 is the broadcast "
                         "address, 248 to 255 are reserved)")
    return unit


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
        """``tcp:HOST:PORT`` or ``rtu:SERIAL_PORT:BAUD`` (e.g. ``rtu:/dev/ttyUSB0:115200``),
        optionally followed by ``#unit=N``: the unit id, 1 to 247 (``unit`` when the text
        names none, 1 by default). Raises UsageError naming the target."""
        where, mark, given = text.partition("#")
        if mark:
            value = _number(given[len("unit="):]) if given.startswith("unit=") else None
            if value is None:
                raise UsageError(f"{text!r}: a unit id is written #unit=N after the target, "
                                 "e.g. rtu:COM3:19200#unit=3")
            unit = value
        check_unit(unit, repr(text))
        kind, _, rest = where.partition(":")
        address, _, digits = rest.rpartition(":")
        number = _number(digits)
        if kind not in (TCP, RTU) or not address or number is None:
            raise UsageError(f"{text!r} is not {SYNTAX}")
        if kind == TCP:
            if not 1 <= number <= 65535:
                raise UsageError(f"{text!r}: TCP port {number} is not 1 to 65535")
            return cls.tcp(address, number, unit)
        if number <= 0:
            raise UsageError(f"{text!r}: a baud rate is a positive number, not {number}")
        return cls.rtu(address, number, unit)

    @property
    def target(self) -> str:
        """The target text :meth:`parse` reads back: ``tcp:HOST:PORT`` or
        ``rtu:SERIAL_PORT:BAUD``, with ``#unit=N`` only for a unit other than 1 (so a target
        has one spelling, and every target written before unit ids keeps its own)."""
        where = f"{self.kind}:{self.address}:{self.port if self.kind == TCP else self.baud}"
        return where if self.unit == DEFAULT_UNIT else f"{where}{UNIT_MARK}{self.unit}"

    @property
    def bus(self) -> str:
        """What the device shares its link with: ``rtu:SERIAL_PORT`` (every unit on that
        port, whatever their unit ids and the baud written), ``tcp:HOST:PORT`` on TCP (the
        units behind one gateway share its serial line)."""
        if self.kind == RTU:
            return f"{RTU}:{self.address}"
        return f"{TCP}:{self.address}:{self.port}"

    def __str__(self) -> str:
        """For messages: ``tcp:127.0.0.1:502 unit 1`` or ``rtu:COM3@19200 8E1 unit 1``."""
        if self.kind == TCP:
            return f"tcp:{self.address}:{self.port} unit {self.unit}"
        return (f"rtu:{self.address}@{self.baud} {self.bytesize}{self.parity}{self.stopbits} "
                f"unit {self.unit}")
