"""The runtime on Modbus: a pymodbus server (TCP or RTU) whose request hook is the protocol."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from app.devices.controller.faults import ServerFaults
from app.devices.controller.flashstate import Reject
from app.devices.controller.image import RegisterImage
from app.devices.controller.runtime import ControllerRuntime
from app.devices.protocol import registers as r
from app.fieldbus.endpoint import DEFAULT_UNIT
from app.fieldbus.limits import WRITE_REGISTERS

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
HOLDING = ((r.COMMAND_BASE, r.COMMAND_COUNT), (r.WINDOW_BASE, WRITE_REGISTERS))


class ControllerServer:
    """Serves one :class:`ControllerRuntime` at a unit id; the server runs on its own event
    loop in a daemon thread, and :meth:`stop` ends and joins it (the runtime is not stopped).
    """

    def __init__(self, runtime: ControllerRuntime, unit: int = DEFAULT_UNIT) -> None:
        self.runtime, self.unit = runtime, unit
        self.image = RegisterImage(runtime)
        self.faults = ServerFaults()
        self.requests = 0
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._stop_event: asyncio.Event | None = None
        self._release: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _device(self) -> SimDevice:
        def regs(regions: Any) -> list[SimData]:
            return [SimData(a, count=n, values=0, datatype=DataType.REGISTERS)
                    for a, n in regions]
        bits = [SimData(0, values=[False] * 16, datatype=DataType.BITS)]
        return SimDevice(id=self.unit, action=self._action, simdata=(
            bits, list(bits), regs(HOLDING), regs(self.image.regions_for_server())))

    async def _action(self, fc: int, start: int, address: int, count: int,
                      registers: list[int], values: Any) -> ExcCodes | None:
        self.requests += 1
        faults = self.faults
        if faults.holds(fc, address, count):
            assert self._release is not None
            await self._release.wait()  # unanswered: released only to shut down
            return ExcCodes.DEVICE_BUSY
        if faults.down:
            faults.dropped += 1
            self._drop_now()
            return ExcCodes.DEVICE_FAILURE  # never delivered: the connection is gone
        if faults.delay_s:
            await asyncio.sleep(faults.delay_s)
        if (code := faults.take(fc, address, count)) is not None:
            return ExcCodes(code)
        if fc == 4:
            words = self.image.read(address, count)
            if words is None:
                return ExcCodes.ILLEGAL_ADDRESS
            registers[address - start:address - start + count] = words
            return None
        if fc in (6, 16) and values is not None:
            return self._write(address, [int(v) for v in values])
        if fc in (3, 6, 16):
            return None  # holding reads (function 6 reads its register back after writing)
        return ExcCodes.ILLEGAL_FUNCTION

    def _write(self, address: int, values: list[int]) -> ExcCodes | None:
        machine = self.runtime.machine
        try:
            if address == r.COMMAND_BASE and len(values) == r.COMMAND_COUNT:
                machine.command_block(values)
            elif address == r.COMMAND_BASE and len(values) == 1:
                machine.command_bare(values[0])
            elif address == r.WINDOW_BASE and len(values) >= r.WINDOW_HEADER_REGS:
                if self.faults.chunk_cut(before=True):
                    self._drop_now()
                    return None
                machine.chunk(values)
                if self.faults.chunk_cut(before=False):
                    self._drop_now()
            else:
                return ExcCodes.ILLEGAL_ADDRESS
        except Reject as exc:
            return ExcCodes(exc.exc_code)
        return None

    # -- lifecycle ----------------------------------------------------------------------
    def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host``:``port`` (0 picks a free port); returns the port."""
        self._start(lambda: ModbusTcpServer(self._device(), address=(host, port),
                                            ignore_missing_devices=True))
        assert self.port is not None
        return self.port

    def start_serial(self, port: str, baudrate: int = 115200, *, parity: str = "N",
                     stopbits: int = 1, bytesize: int = 8) -> None:
        """Serve RTU on a serial port (a real one, or one end of a line simulator)."""
        self._start(lambda: ModbusSerialServer(
            self._device(), framer=FramerType.RTU, port=port, baudrate=baudrate,
            parity=parity, stopbits=stopbits, bytesize=bytesize, ignore_missing_devices=True))

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
