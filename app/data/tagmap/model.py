"""The tag map of a Modbus source: connection, process tags and waveform buffers."""

from __future__ import annotations

from dataclasses import dataclass

from app.fieldbus.codec import TYPES
from app.fieldbus.endpoint import Endpoint
from app.fieldbus.policy import RetryPolicy

PARITIES = ("N", "E", "O")
MAX_ADDRESS = 0xFFFF


@dataclass(frozen=True)
class Connection:
    """Where the device is: TCP (``host``, ``port``) or RTU (``serial_port`` and framing)."""

    host: str | None = None
    port: int = 502
    serial_port: str | None = None
    baudrate: int = 19200
    parity: str = "E"
    stopbits: int = 1
    bytesize: int = 8
    unit_id: int = 1
    timeout_s: float = 1.0
    reconnect_timeout_s: float = 30.0

    def endpoint(self) -> Endpoint:
        """The fieldbus endpoint (a missing host is the loopback address)."""
        if self.serial_port:
            return Endpoint.rtu(self.serial_port, self.baudrate, self.unit_id,
                                bytesize=self.bytesize, parity=self.parity,
                                stopbits=self.stopbits)
        return Endpoint.tcp(self.host or "127.0.0.1", self.port, self.unit_id)

    def retry_policy(self) -> RetryPolicy:
        """One try per request within ``timeout_s``: the acquisition loop itself decides what
        a timeout or an exception means (skip a poll, reconnect, stop)."""
        return RetryPolicy.single_try(self.timeout_s)

    @property
    def transport(self) -> str:
        """'tcp' or 'rtu'."""
        return "rtu" if self.serial_port else "tcp"

    def describe(self) -> str:
        """For messages: '127.0.0.1:502 unit 1' or '/dev/ttyUSB0 19200 8E1 unit 1'."""
        if self.serial_port:
            return (f"{self.serial_port} {self.baudrate} {self.bytesize}{self.parity}"
                    f"{self.stopbits} unit {self.unit_id}")
        return f"{self.host}:{self.port} unit {self.unit_id}"


@dataclass(frozen=True)
class Tag:
    """One process value: ``address`` is the 0-based protocol address in ``table``."""

    name: str
    table: str
    address: int
    type: str = "uint16"
    word_order: str = "big"
    byte_order: str = "big"
    scale: float = 1.0
    offset: float = 0.0
    unit: str = ""

    @property
    def words(self) -> int:
        """Registers (or bits, for coils and discretes) the value occupies."""
        return TYPES[self.type][0]


@dataclass(frozen=True)
class Waveform:
    """A block of ``length`` samples that the device refills, bumping a sequence counter.

    ``sequence_address`` is a uint16 register in ``sequence_table`` that changes each time
    the buffer holds a new block (it may wrap at 65536).
    """

    name: str
    table: str
    address: int
    length: int
    type: str
    sample_rate_hz: float
    sequence_address: int
    sequence_table: str
    word_order: str = "big"
    byte_order: str = "big"
    scale: float = 1.0
    offset: float = 0.0
    unit: str = ""
    check_rate_hz: float | None = None

    @property
    def words(self) -> int:
        """Registers the whole buffer occupies."""
        return self.length * TYPES[self.type][0]

    @property
    def period_s(self) -> float:
        """Seconds between two buffers."""
        return self.length / self.sample_rate_hz

    @property
    def check_interval_s(self) -> float:
        """How often the sequence counter is read (default: four times per buffer)."""
        rate = self.check_rate_hz or 4.0 / self.period_s
        return 1.0 / min(rate, 500.0)


@dataclass(frozen=True)
class TagMap:
    """A validated tag map; ``text`` and ``sha256`` are the TOML it came from (provenance)."""

    name: str
    connection: Connection
    poll_rate_hz: float
    tags: tuple[Tag, ...]
    waveforms: tuple[Waveform, ...] = ()
    max_gap: int = 0
    text: str = ""
    sha256: str = ""

    def tag(self, name: str) -> Tag:
        """The tag called ``name`` (KeyError if none)."""
        for tag in self.tags:
            if tag.name == name:
                return tag
        raise KeyError(name)
