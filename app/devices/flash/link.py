"""One Modbus link to a controller (TCP or RTU): bounded requests, retries only where safe."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusIOException
from pymodbus.framer import FramerType

from app.core.errors import UsageError
from app.devices.controller.codes import RETRYABLE_EXCEPTIONS, describe_exception
from app.devices.controller.registers import DEFAULT_UNIT
from app.devices.flash.errors import DeviceBusy, DeviceRefused, LinkLost, LinkTimeout

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Endpoint:
    """Where a controller is: ``tcp`` host and port, or ``rtu`` serial port and baud rate."""

    kind: str
    address: str
    port: int = 502
    baud: int = 115200
    unit: int = DEFAULT_UNIT

    @classmethod
    def tcp(cls, host: str, port: int = 502, unit: int = DEFAULT_UNIT) -> Endpoint:
        return cls("tcp", host, port=port, unit=unit)

    @classmethod
    def rtu(cls, serial_port: str, baud: int = 115200, unit: int = DEFAULT_UNIT) -> Endpoint:
        return cls("rtu", serial_port, baud=baud, unit=unit)

    @classmethod
    def parse(cls, text: str, unit: int = DEFAULT_UNIT) -> Endpoint:
        """``tcp:HOST:PORT`` or ``rtu:SERIAL_PORT:BAUD`` (e.g. ``rtu:/dev/ttyUSB0:115200``)."""
        kind, _, rest = text.partition(":")
        where, _, number = rest.rpartition(":")
        if kind not in ("tcp", "rtu") or not where or not number.isdigit():
            raise UsageError(f"{text!r} is not tcp:HOST:PORT or rtu:SERIAL_PORT:BAUD")
        if kind == "tcp":
            return cls.tcp(where, int(number), unit)
        return cls.rtu(where, int(number), unit)

    def __str__(self) -> str:
        where = f"{self.address}:{self.port}" if self.kind == "tcp" else \
            f"{self.address}@{self.baud}"
        return f"{self.kind}:{where} unit {self.unit}"


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of every request. Worst case for one request, without exceptions:
    ``(1 + timeout_retries) * 2 * timeout_s`` (pymodbus may wait a second timeout for the
    rest of a frame); each 05/06 adds at most ``backoff_max_s``."""

    timeout_s: float = 1.0
    timeout_retries: int = 2
    busy_retries: int = 6
    backoff_s: float = 0.05
    backoff_max_s: float = 1.0

    def backoff(self, attempt: int) -> float:
        return min(self.backoff_max_s, self.backoff_s * (2 ** attempt))


@dataclass
class LinkStats:
    """What happened on the link, for reports and benchmarks."""

    requests: int = 0
    timeouts: int = 0
    busy_retries: int = 0
    reconnects: int = 0
    garbled: int = 0
    exceptions: dict[int, int] = field(default_factory=dict)


class ModbusLink:
    """A pymodbus sync client with the retry rules of DESIGN.md section 4.

    Every request has a timeout. A request that gets no (or no valid) answer is sent again
    at most ``timeout_retries`` times; on TCP over a fresh connection, so a late reply can
    never be read as the answer to a later request (pymodbus also drops replies with
    another transaction or unit id); on RTU after the line went quiet and the input was
    flushed. Exceptions 05 and 06 are retried with a doubling back-off up to
    ``busy_retries``; every other exception code raises :class:`DeviceRefused` at once.
    Every request is idempotent in the PlantML protocol, so repeating one is safe.
    """

    def __init__(self, endpoint: Endpoint, policy: RetryPolicy | None = None, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.endpoint, self.policy, self.sleep = endpoint, policy or RetryPolicy(), sleep
        self.stats = LinkStats()
        self._client: ModbusTcpClient | ModbusSerialClient | None = None

    def _make(self) -> ModbusTcpClient | ModbusSerialClient:
        ep, timeout = self.endpoint, self.policy.timeout_s
        if ep.kind == "tcp":
            return ModbusTcpClient(ep.address, port=ep.port, timeout=timeout, retries=0)
        return ModbusSerialClient(ep.address, framer=FramerType.RTU, baudrate=ep.baud,
                                  timeout=timeout, retries=0)

    def connect(self) -> None:
        """Open the connection (or port); raises LinkLost."""
        if self._client is not None and self._client.connected:
            return
        self.close()
        client = self._make()
        if not client.connect():
            client.close()
            raise LinkLost(f"cannot connect to {self.endpoint}", step="connect")
        self._client = client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> ModbusLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _recover(self) -> None:
        """After a lost or unanswered request: a clean stream before the next one."""
        if self.endpoint.kind == "tcp":
            self.close()  # a late reply dies with the old connection
            self.stats.reconnects += 1
            return
        sock = getattr(self._client, "socket", None)
        if sock is None:
            return
        quiet, limit = max(0.005, 40 * 11 / self.endpoint.baud), self.policy.timeout_s
        start = last = time.monotonic()
        try:  # let a late answer finish arriving, then throw it away
            while time.monotonic() - start < limit:
                if sock.in_waiting:
                    sock.read(sock.in_waiting)
                    last = time.monotonic()
                elif time.monotonic() - last > quiet:
                    break
                time.sleep(0.002)
            sock.reset_input_buffer()
        except OSError:
            self.close()

    def request(self, what: str, register: int, call: Callable[[Any], Any],
                valid: Callable[[Any], bool]) -> Any:
        """Run ``call(client)`` under the retry rules; ``valid`` checks the answer's shape."""
        silent = busy = 0
        policy = self.policy
        while True:
            self.stats.requests += 1
            try:
                self.connect()
                assert self._client is not None
                response = call(self._client)
            except (ConnectionException, ModbusIOException, OSError, LinkLost) as exc:
                lost = not isinstance(exc, ModbusIOException)
                reason = ("cannot connect" if isinstance(exc, LinkLost) else "connection lost"
                          if lost else f"no answer within {policy.timeout_s:g} s")
                self.stats.timeouts += 1
                silent += 1
                self._recover()
                if silent > policy.timeout_retries:
                    kind = LinkLost if lost else LinkTimeout
                    raise kind(f"{what} at register {register}: {reason} ({self.endpoint}, "
                               f"{silent} tries)", step=what, register=register) from None
                continue
            if response.isError():
                code = int(getattr(response, "exception_code", 0))
                self.stats.exceptions[code] = self.stats.exceptions.get(code, 0) + 1
                if code in RETRYABLE_EXCEPTIONS and busy < policy.busy_retries:
                    self.sleep(policy.backoff(busy))
                    busy += 1
                    self.stats.busy_retries += 1
                    continue
                kind = DeviceBusy if code in RETRYABLE_EXCEPTIONS else DeviceRefused
                extra = f" after {busy + 1} tries" if code in RETRYABLE_EXCEPTIONS else ""
                raise kind(f"{what} at register {register}: the controller answered "
                           f"{describe_exception(code)}{extra}", step=what, register=register,
                           exception_code=code)
            if not valid(response):
                # A frame that parsed but does not answer this request: treat as no answer.
                self.stats.garbled += 1
                silent += 1
                self._recover()
                if silent > policy.timeout_retries:
                    raise LinkTimeout(f"{what} at register {register}: no valid answer from "
                                      f"{self.endpoint} in {silent} tries", step=what,
                                      register=register)
                continue
            return response

    # -- the four requests the protocol uses --------------------------------------------
    def read_input(self, address: int, count: int, what: str = "read") -> list[int]:
        unit = self.endpoint.unit
        resp = self.request(what, address, lambda c: c.read_input_registers(
            address, count=count, device_id=unit), lambda r: len(r.registers) == count)
        return list(resp.registers)

    def read_holding(self, address: int, count: int, what: str = "read") -> list[int]:
        unit = self.endpoint.unit
        resp = self.request(what, address, lambda c: c.read_holding_registers(
            address, count=count, device_id=unit), lambda r: len(r.registers) == count)
        return list(resp.registers)

    def write(self, address: int, values: list[int], what: str = "write") -> None:
        """Function 16; the echoed start and quantity must match."""
        unit = self.endpoint.unit
        self.request(what, address, lambda c: c.write_registers(address, values, device_id=unit),
                     lambda r: r.address == address and r.count == len(values))

    def write_one(self, address: int, value: int, what: str = "write") -> None:
        """Function 6; the echoed register and value must match."""
        unit = self.endpoint.unit
        self.request(what, address, lambda c: c.write_register(address, value, device_id=unit),
                     lambda r: r.address == address and list(r.registers) == [value])
