"""One Modbus link (TCP or RTU): bounded requests, retries only where the policy allows."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType

from app.fieldbus.endpoint import TCP, Endpoint
from app.fieldbus.errors import DeviceBusy, DeviceRefused, LinkLost, LinkTimeout
from app.fieldbus.exceptions import BUSY, describe_exception
from app.fieldbus.limits import BIT_TABLES
from app.fieldbus.policy import RetryPolicy

log = logging.getLogger(__name__)

_NOUN = {"holding": "holding register", "input": "input register", "coil": "coil",
         "discrete": "discrete input"}


def span_text(table: str, address: int, count: int) -> str:
    """``holding registers 0-12`` or ``coil 7``: what a request covers, for messages."""
    if count == 1:
        return f"{_NOUN[table]} {address}"
    return f"{_NOUN[table]}s {address}-{address + count - 1}"


def _tries(n: int) -> str:
    return f"{n} try" if n == 1 else f"{n} tries"


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
    """A pymodbus sync client under the retry rules of DESIGN.md section 4.

    Every request has a timeout; pymodbus' own retries are off, the policy decides. A
    request that gets no (or no valid) answer is sent again at most ``timeout_retries``
    times; on TCP over a fresh connection, so a late reply can never be read as the answer
    to a later request (pymodbus also drops replies with another transaction or unit id);
    on RTU after the line went quiet and the input was flushed. Exceptions 05 and 06 are
    retried with a doubling back-off up to ``busy_retries`` and then raise
    :class:`DeviceBusy`; every other exception code raises :class:`DeviceRefused` at once.
    Only idempotent requests go through here (reads, and writes of whole register values),
    so repeating one is safe.
    """

    def __init__(self, endpoint: Endpoint, policy: RetryPolicy | None = None, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.endpoint, self.policy, self.sleep = endpoint, policy or RetryPolicy(), sleep
        self.stats = LinkStats()
        self._client: ModbusTcpClient | ModbusSerialClient | None = None

    def _make(self) -> ModbusTcpClient | ModbusSerialClient:
        ep, timeout = self.endpoint, self.policy.timeout_s
        if ep.kind == TCP:
            return ModbusTcpClient(ep.address, port=ep.port, timeout=timeout, retries=0)
        return ModbusSerialClient(ep.address, framer=FramerType.RTU, baudrate=ep.baud,
                                  bytesize=ep.bytesize, parity=ep.parity,
                                  stopbits=ep.stopbits, timeout=timeout, retries=0)

    def connect(self) -> None:
        """Open the connection (or port) unless it is open; raises LinkLost."""
        if self._client is not None and self._client.connected:
            return
        self.close()
        client = self._make()
        try:
            ok = client.connect()
        except (OSError, ModbusException) as exc:
            ok = False
            log.debug("connect to %s failed: %s", self.endpoint, exc)
        if not ok:
            client.close()
            raise LinkLost(f"cannot connect to {self.endpoint}", step="connect")
        self._client = client

    @property
    def connected(self) -> bool:
        """True while the transport is open."""
        return self._client is not None and bool(self._client.connected)

    def close(self) -> None:
        """Close the transport; the next request reconnects. Safe to call twice."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> ModbusLink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _recover(self) -> None:
        """After a lost or unanswered request: a clean stream before the next one."""
        if self.endpoint.kind == TCP:
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

    def _failed(self, head: str, reason: str, tries: int, unanswered: bool) -> str:
        """The sentence of a request that failed ``tries`` times for ``reason``."""
        ep = self.endpoint
        if unanswered and ep.kind != TCP:
            # On a shared serial bus silence most often means that no device has this unit
            # id: say which unit was asked on which port.
            return (f"{head}: no answer from unit {ep.unit} on {ep.address} within "
                    f"{self.policy.timeout_s:g} s ({ep.baud} baud "
                    f"{ep.bytesize}{ep.parity}{ep.stopbits}, {_tries(tries)})")
        return f"{head}: {reason} ({ep}, {_tries(tries)})"

    def request(self, what: str, table: str, address: int, count: int,
                call: Callable[[Any], Any], valid: Callable[[Any], bool]) -> Any:
        """Run ``call(client)`` under the retry rules; ``valid`` checks the answer's shape.

        ``what``, ``table``, ``address`` and ``count`` name the request in messages. Raises
        LinkTimeout, LinkLost, DeviceBusy or DeviceRefused.
        """
        silent = busy = 0
        policy = self.policy
        while True:
            self.stats.requests += 1
            try:
                self.connect()
                assert self._client is not None
                response = call(self._client)
            except (ModbusException, OSError, LinkLost) as exc:
                unanswered = isinstance(exc, ModbusIOException)
                lost = not unanswered
                reason = ("cannot connect" if isinstance(exc, LinkLost) else
                          f"no answer within {policy.timeout_s:g} s" if unanswered else
                          "connection lost" if isinstance(exc, ConnectionException | OSError)
                          else f"link failed ({exc})")
                self.stats.timeouts += 1
                silent += 1
                self._recover()
                if silent > policy.timeout_retries:
                    kind = LinkLost if lost else LinkTimeout
                    raise kind(self._failed(f"{what} {span_text(table, address, count)}",
                                            reason, silent, unanswered), step=what,
                               register=address) from None
                continue
            if response.isError():
                code = int(getattr(response, "exception_code", 0))
                self.stats.exceptions[code] = self.stats.exceptions.get(code, 0) + 1
                if code in BUSY and busy < policy.busy_retries:
                    self.sleep(policy.backoff(busy))
                    busy += 1
                    self.stats.busy_retries += 1
                    continue
                refusal = DeviceBusy if code in BUSY else DeviceRefused
                extra = f" after {_tries(busy + 1)}" if busy else ""
                raise refusal(f"{what} {span_text(table, address, count)}: {self.endpoint} "
                           f"answered {describe_exception(code)}{extra}", step=what,
                           register=address, exception_code=code,
                           function=response.function_code & 0x7F)
            if not valid(response):
                # A frame that parsed but does not answer this request: treat as no answer.
                self.stats.garbled += 1
                silent += 1
                self._recover()
                if silent > policy.timeout_retries:
                    raise LinkTimeout(f"{what} {span_text(table, address, count)}: no valid "
                                      f"answer from {self.endpoint} in {_tries(silent)}",
                                      step=what, register=address)
                continue
            return response

    # -- the requests ---------------------------------------------------------------------
    def read(self, table: str, address: int, count: int, what: str = "read") -> list[int]:
        """``count`` registers (0..65535) or bits (0 or 1) of ``table`` (holding, input,
        coil, discrete) from ``address``."""
        unit = self.endpoint.unit
        if table in BIT_TABLES:
            fn = "read_coils" if table == "coil" else "read_discrete_inputs"
            resp = self.request(what, table, address, count, lambda c: getattr(c, fn)(
                address, count=count, device_id=unit), lambda r: len(r.bits) >= count)
            return resp.bits[:count]  # bools: 0/1 in arithmetic
        fn = "read_holding_registers" if table == "holding" else "read_input_registers"
        resp = self.request(what, table, address, count, lambda c: getattr(c, fn)(
            address, count=count, device_id=unit), lambda r: len(r.registers) == count)
        return list(resp.registers)

    def read_input(self, address: int, count: int, what: str = "read") -> list[int]:
        """Function 4."""
        return self.read("input", address, count, what)

    def read_holding(self, address: int, count: int, what: str = "read") -> list[int]:
        """Function 3."""
        return self.read("holding", address, count, what)

    def write(self, address: int, values: list[int], what: str = "write") -> None:
        """Function 16; the echoed start and quantity must match."""
        unit = self.endpoint.unit
        self.request(what, "holding", address, len(values),
                     lambda c: c.write_registers(address, values, device_id=unit),
                     lambda r: r.address == address and r.count == len(values))

    def write_one(self, address: int, value: int, what: str = "write") -> None:
        """Function 6; the echoed register and value must match."""
        unit = self.endpoint.unit
        self.request(what, "holding", address, 1,
                     lambda c: c.write_register(address, value, device_id=unit),
                     lambda r: r.address == address and list(r.registers) == [value])
