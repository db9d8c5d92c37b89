"""The runtime on Modbus: a pymodbus server (TCP or RTU) whose requests are the protocol's own
(:mod:`.requests`): only the documented function codes are served, everything else gets the
exception the Modbus specification names for it."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from pymodbus.exceptions import NoSuchIdException
from pymodbus.framer import FramerType
from pymodbus.pdu import ModbusPDU
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from app.devices.controller.capture import CaptureRefused, is_select
from app.devices.controller.faults import ServerFaults
from app.devices.controller.flashstate import Reject
from app.devices.controller.image import RegisterImage
from app.devices.controller.requests import (
    READ_HOLDING,
    READ_INPUT,
    WRITE_MANY,
    WRITE_ONE,
    ProtocolRequest,
    UnsupportedRequest,
    refuse,
    registers_read,
    request_classes,
    written,
)
from app.devices.controller.rtu_silence import SilenceFramedSerialServer
from app.devices.controller.runtime import ControllerRuntime
from app.devices.protocol import registers as r
from app.fieldbus.endpoint import DEFAULT_UNIT
from app.fieldbus.exceptions import ExceptionCode as X
from app.fieldbus.limits import WRITE_REGISTERS

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
HOLDING = ((r.COMMAND_BASE, r.COMMAND_COUNT), (r.WINDOW_BASE, WRITE_REGISTERS))
_SESSION = r.FIELDS["chunk_session"]
SECRET = frozenset(r.SECRET_HOLDING) | frozenset(range(_SESSION.address, _SESSION.end))
#: On TCP the unit id of a device that is not a gateway should be 0xFF (Modbus Messaging on
#: TCP/IP Implementation Guide V1.0b, 4.4.2); the configured one is served too.
TCP_SELF = 0xFF


class ControllerServer:
    """Serves one :class:`ControllerRuntime` at a unit id; the server runs on its own event
    loop in a daemon thread, and :meth:`stop` ends and joins it (the runtime is not stopped).
    """

    def __init__(self, runtime: ControllerRuntime, unit: int = DEFAULT_UNIT) -> None:
        if not 1 <= unit <= 247:
            raise ValueError(f"unit id {unit} is not 1 to 247")
        self.runtime, self.unit = runtime, unit
        self.image = RegisterImage(runtime)
        self.faults = ServerFaults()
        self.requests = 0
        #: Bytes dropped on RTU because a silence came before their frame was complete.
        self.stale_bytes = 0
        self.port: int | None = None
        self.rtu = False
        self._holding: dict[int, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._stop_event: asyncio.Event | None = None
        self._release: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @staticmethod
    def _context() -> SimDevice:
        # pymodbus requires a device; every request is answered by _handle, never from it.
        return SimDevice(id=0, simdata=[SimData(0, values=0, datatype=DataType.REGISTERS)])

    def _pdus(self) -> list[type[ModbusPDU]]:
        return request_classes(self._handle, rtu=self.rtu)

    def _addressed(self, unit: int) -> bool:
        return unit == self.unit or (not self.rtu and unit == TCP_SELF)

    async def _handle(self, req: ProtocolRequest, unit: int) -> ModbusPDU:
        if not self._addressed(unit):
            if self.rtu:  # another device on the bus answers; broadcasts are never answered
                raise NoSuchIdException(f"unit id {unit} is not this controller")
            return refuse(req, X.GATEWAY_TARGET_FAILED)
        self.requests += 1
        fc = req.function_code
        faults = self.faults
        if faults.holds(fc, req.address, req.count):
            assert self._release is not None
            await self._release.wait()  # unanswered: released only to shut down
            return refuse(req, X.SERVER_DEVICE_BUSY)
        if faults.down:
            faults.dropped += 1
            self._drop_now()
            return refuse(req, X.SERVER_DEVICE_FAILURE)  # never delivered: the link is gone
        if faults.delay_s:
            await asyncio.sleep(faults.delay_s)
        if (code := faults.take(fc, req.address, req.count)) is not None:
            return refuse(req, code)
        if isinstance(req, UnsupportedRequest):
            return refuse(req, X.ILLEGAL_FUNCTION)
        if req.problem:
            log.info("function %d refused: %s", fc, req.problem)
            return refuse(req, X.ILLEGAL_DATA_VALUE)
        if fc == READ_INPUT:
            words = self.image.read(req.address, req.count)
            return refuse(req, X.ILLEGAL_DATA_ADDRESS) if words is None else \
                registers_read(req, words)
        if fc == READ_HOLDING:
            return self._read_holding(req)
        assert fc in (WRITE_ONE, WRITE_MANY)
        code = self._write(req.address, list(req.registers), fc)
        return refuse(req, code) if code is not None else written(req)

    def _read_holding(self, req: ProtocolRequest) -> ModbusPDU:
        if (words := self.runtime.capture.read(req.address, req.count)) is not None:
            return registers_read(req, words)  # the capture block (6e), read-only but select
        if not any(base <= req.address and req.address + req.count <= base + n
                   for base, n in HOLDING):
            return refuse(req, X.ILLEGAL_DATA_ADDRESS)
        # The proof and the session id are never read back: a master that did not sign
        # the BEGIN cannot learn the session's id from the registers.
        return registers_read(req, [0 if a in SECRET else self._holding.get(a, 0)
                                    for a in range(req.address, req.address + req.count)])

    def _write(self, address: int, values: list[int], function: int) -> int | None:
        machine = self.runtime.machine
        try:
            if address == r.COMMAND_BASE and len(values) == r.COMMAND_COUNT:
                machine.command_block(values)
            elif address == r.COMMAND_BASE:
                machine.command_unsigned(values[0], function)
            elif address == r.WINDOW_BASE and len(values) >= r.WINDOW_HEADER_REGS:
                if self.faults.chunk_cut(before=True):
                    self._drop_now()
                    return None
                machine.chunk(values)
                if self.faults.chunk_cut(before=False):
                    self._drop_now()
            elif is_select(address, len(values)):
                self.runtime.capture.select(values)  # no proof: it changes nothing that runs
                return None
            else:
                return X.ILLEGAL_DATA_ADDRESS
        except (Reject, CaptureRefused) as exc:
            return exc.exc_code
        self._holding.update(zip(range(address, address + len(values)), values, strict=True))
        return None

    def _count_stale(self, n: int) -> None:
        self.stale_bytes += n

    # -- lifecycle ----------------------------------------------------------------------
    def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host``:``port`` (0 picks a free port); returns the port."""
        self._start(lambda: ModbusTcpServer(self._context(), address=(host, port),
                                            ignore_missing_devices=True,
                                            custom_pdu=self._pdus()))
        assert self.port is not None
        return self.port

    def start_serial(self, port: str, baudrate: int = 115200, *, parity: str = "N",
                     stopbits: int = 1, bytesize: int = 8) -> None:
        """Serve RTU on a serial port (a real one, or one end of a line simulator)."""
        self.rtu = True
        self._start(lambda: SilenceFramedSerialServer(
            self._context(), framer=FramerType.RTU, port=port, baudrate=baudrate,
            parity=parity, stopbits=stopbits, bytesize=bytesize, ignore_missing_devices=True,
            custom_pdu=self._pdus(), on_stale=self._count_stale))

    def _start(self, make: Callable[[], ModbusTcpServer | ModbusSerialServer]) -> None:
        if self._thread is not None:
            raise RuntimeError("the controller server is already running")
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(make, ready),
                                        name="controller-server", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT_S) or self._error is not None:
            self.stop()
            raise RuntimeError(f"the controller server did not start: {self._error}")

    def _run(self, make: Callable[[], Any], ready: threading.Event) -> None:
        try:
            asyncio.run(self._serve(make, ready))
        except BaseException as exc:  # reported to the starting thread, then logged
            self._error = exc
            log.exception("controller server stopped with an error")
        finally:
            ready.set()

    async def _serve(self, make: Callable[[], Any], ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_event, self._release = asyncio.Event(), asyncio.Event()
        self._server = make()
        await self._server.serve_forever(background=True)
        sockets = getattr(self._server.transport, "sockets", None)
        if sockets:
            self.port = sockets[0].getsockname()[1]
        ready.set()
        await self._stop_event.wait()
        self._release.set()
        await self._server.shutdown()

    def stop(self) -> None:
        """Stop serving and join the server thread; safe to call twice."""
        if self._thread is None:
            return
        loop, event = self._loop, self._stop_event
        if loop is not None and event is not None and loop.is_running():
            loop.call_soon_threadsafe(event.set)
        self._thread.join(START_TIMEOUT_S)
        if self._thread.is_alive():
            log.error("controller server thread did not stop")
        self._thread = None

    def __enter__(self) -> ControllerServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- link faults --------------------------------------------------------------------
    def _drop_now(self) -> None:
        # Runs on the server's loop (inside a request): abort is immediate, like a reset.
        assert self._server is not None
        for conn in list(self._server.active_connections.values()):
            if isinstance(conn.transport, asyncio.WriteTransport):
                conn.transport.abort()

    def drop_connections(self) -> None:
        """Reset every open TCP connection now; new connections are accepted."""
        if self._loop is None:
            return

        async def drop() -> None:
            self._drop_now()
        asyncio.run_coroutine_threadsafe(drop(), self._loop).result(START_TIMEOUT_S)

    def release_hang(self) -> None:
        """Answer requests again after ``faults.hang`` (held ones get exception 06)."""
        if self._loop is None:
            return

        async def release() -> None:
            self.faults.hang = False
            assert self._release is not None
            self._release.set()
            self._release = asyncio.Event()
        asyncio.run_coroutine_threadsafe(release(), self._loop).result(START_TIMEOUT_S)


def serve_tcp(runtime: ControllerRuntime, host: str = "127.0.0.1", port: int = 502,
              unit: int = DEFAULT_UNIT) -> ControllerServer:
    """Start the runtime (if it is not running) and serve it on TCP; returns the server."""
    if not runtime.running:
        runtime.start()
    server = ControllerServer(runtime, unit)
    server.start_tcp(host, port)
    return server


def serve_serial(runtime: ControllerRuntime, port: str, baudrate: int = 115200,
                 unit: int = DEFAULT_UNIT) -> ControllerServer:
    """Start the runtime (if it is not running) and serve it on RTU; returns the server."""
    if not runtime.running:
        runtime.start()
    server = ControllerServer(runtime, unit)
    server.start_serial(port, baudrate)
    return server
