"""A Modbus device simulator (pymodbus server) for tests, benchmarks and the demo.

It serves simulated process tags and a waveform buffer that replays a dataset (e.g. the
CWRU drive-end signal), over TCP on 127.0.0.1 or over a serial port (RTU). Fault knobs:
answer an exception for chosen addresses, never answer, drop or cut the link.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import numpy as np
from pymodbus.constants import ExcCodes
from pymodbus.framer import FramerType
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from app.devices.sim.registers import FUNCTION_TABLE, HOLDING_SIZE, Faults, RegisterModel

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0


class ModbusSimulator:
    """One simulated device; start it with :meth:`start_tcp` or :meth:`start_rtu`.

    The server runs on its own event loop in a daemon thread; :meth:`stop` ends and joins
    it. Use as a context manager in tests so the thread never outlives the test.
    """

    def __init__(self, *, waveform: np.ndarray | None = None, sample_rate: float = 12_000.0,
                 buffer_len: int = 256, unit_id: int = 1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        # ``clock`` drives the simulated process and the waveform sequence: a test passes a
        # frozen FakeClock's monotonic and moves the device on exactly when it wants.
        self.model = RegisterModel(waveform, sample_rate, buffer_len, clock=clock)
        self.unit_id = unit_id
        self.faults = Faults()
        self.requests = 0
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._stop: asyncio.Event | None = None
        self._release: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    # -- the device ---------------------------------------------------------------------
    def _device(self) -> SimDevice:
        bits = [False] * 16
        # Device id 0 takes every unit id; answers to other ids are dropped in _trace, as a
        # real device on a shared line stays silent (pymodbus would answer exception 04).
        return SimDevice(id=0, action=self._action, simdata=(
            [SimData(0, values=[True, False] + bits[2:], datatype=DataType.BITS)],
            [SimData(0, values=[True] + bits[1:], datatype=DataType.BITS)],
            [SimData(0, count=HOLDING_SIZE, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, count=self.model.input_size, values=0, datatype=DataType.REGISTERS)]))

    def _trace(self, offset: int):
        def trace(sending: bool, data: bytes) -> bytes:
            if sending and len(data) > offset and data[offset] != self.unit_id:
                return b""
            return data
        return trace

    async def _action(self, function_code: int, start: int, address: int, count: int,
                      registers: list[int], set_values: Any) -> ExcCodes | None:
        self.requests += 1
        if self.faults.hang:
            assert self._release is not None
            await self._release.wait()  # never answered: released only to shut down
            return ExcCodes.DEVICE_BUSY
        table = FUNCTION_TABLE.get(function_code, "holding")
        for (ftable, faddr), code in list(self.faults.exceptions.items()):
            if ftable == table and address <= faddr < address + count:
                self.faults.answered[(ftable, faddr)] += 1
                return ExcCodes(code)
        self.model.refresh(table, start, registers)
        return None

    # -- lifecycle ----------------------------------------------------------------------
    def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on ``host``:``port`` (0 picks a free port); returns the port."""
        self._start(lambda: ModbusTcpServer(self._device(), address=(host, port),
                                            trace_packet=self._trace(6)))  # MBAP unit id
        assert self.port is not None
        return self.port

    def start_rtu(self, serial_port: str, *, baudrate: int = 115200, parity: str = "N",
                  stopbits: int = 1, bytesize: int = 8) -> None:
        """Serve RTU frames on ``serial_port`` (e.g. one end of a socat pty pair)."""
        self._start(lambda: ModbusSerialServer(
            self._device(), framer=FramerType.RTU, port=serial_port, baudrate=baudrate,
            parity=parity, stopbits=stopbits, bytesize=bytesize,
            trace_packet=self._trace(0)))  # RTU address byte

    def _start(self, make_server) -> None:
        if self._thread is not None:
            raise RuntimeError("simulator already started")
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(make_server, ready),
                                        name="modbus-simulator", daemon=True)
        self._thread.start()
        if not ready.wait(START_TIMEOUT_S) or self._error is not None:
            self.stop()
            raise RuntimeError(f"simulator did not start: {self._error}")

    def _run(self, make_server, ready: threading.Event) -> None:
        try:
            asyncio.run(self._serve(make_server, ready))
        except BaseException as exc:  # reported to the starting thread, then logged
            self._error = exc
            log.exception("simulator stopped with an error")
        finally:
            ready.set()

    async def _serve(self, make_server, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop, self._release = asyncio.Event(), asyncio.Event()
        self._server = make_server()
        await self._server.serve_forever(background=True)
        sockets = getattr(self._server.transport, "sockets", None)
        if sockets:
            self.port = sockets[0].getsockname()[1]
        ready.set()
        await self._stop.wait()
        self._release.set()
        await self._server.shutdown()

    def stop(self) -> None:
        """Stop serving and join the server thread; safe to call twice."""
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(START_TIMEOUT_S)
        if self._thread.is_alive():
            log.error("simulator thread did not stop")
        self._thread = None

    @property
    def running(self) -> bool:
        """True while the server thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> ModbusSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- link faults --------------------------------------------------------------------
    def _call(self, coro: Coroutine) -> None:
        assert self._loop is not None
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(START_TIMEOUT_S)

    async def _drop(self) -> None:
        assert self._server is not None
        for conn in list(self._server.active_connections.values()):
            if isinstance(conn.transport, asyncio.WriteTransport):
                conn.transport.abort()

    def drop_link(self) -> None:
        """Reset every open connection now (a TCP reset); new connections are accepted."""
        self._call(self._drop())

    def cut_link(self) -> None:
        """Like a pulled cable: reset connections and answer nothing until restored."""
        self.faults.hang = True
        self.drop_link()

    def restore_link(self) -> None:
        """Answer requests again after :meth:`cut_link`."""

        async def _restore() -> None:
            self.faults.hang = False
            assert self._release is not None
            self._release.set()
            self._release = asyncio.Event()

        self._call(_restore())
