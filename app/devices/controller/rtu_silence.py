"""The RTU server's frame-start rule: a silence on the line begins a new frame, so the bytes a
damaged frame left behind are dropped instead of holding the framer for a frame that never
ends (Modbus over Serial Line V1.02, 2.5.1.1)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from pymodbus.server import ModbusSerialServer
from pymodbus.server.requesthandler import ServerRequestHandler

#: The specification's t3.5 is 1.75 ms above 19200 baud, far below the gaps put inside one
#: frame by a USB adapter's 16 ms latency timer, by pymodbus polling the port on Windows (a
#: 15.6 ms timer tick) or by a loaded machine; a gap this long is still well below any
#: client's reply timeout (ours are 0.2 s and more), so a retry after a timeout always
#: starts on a clean buffer.
MIN_SILENCE_S = 0.05
SILENCE_CHARS = 3.5
BITS_PER_CHAR = 11  # start, 8 data, parity or a second stop, stop


def silence_s(baudrate: int) -> float:
    """How long the line must be quiet before the next byte starts a new frame."""
    return max(MIN_SILENCE_S, SILENCE_CHARS * BITS_PER_CHAR / baudrate)


class _SilenceFramedHandler(ServerRequestHandler):
    """pymodbus' request handler, told where each frame may start."""

    def __init__(self, owner: SilenceFramedSerialServer) -> None:
        super().__init__(owner, owner.trace_packet, owner.trace_pdu, owner.trace_connect)
        self._silence_s, self._on_stale = owner.silence_s, owner.on_stale
        self._last_rx = -float("inf")
        self._fresh = 0

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        self._fresh = len(data) if now - self._last_rx > self._silence_s else 0
        self._last_rx = now
        super().data_received(data)

    def callback_data(self, data: bytes, addr: tuple[Any, ...] | None = None) -> int:
        # ``data`` is everything buffered so far; after a silence only the new bytes count.
        stale = max(0, len(data) - self._fresh) if self._fresh else 0
        self._fresh = 0
        if stale:
            self._on_stale(stale)
        return stale + int(super().callback_data(data[stale:], addr))


class SilenceFramedSerialServer(ModbusSerialServer):
    """An RTU server whose frames start after a silence; ``on_stale(n)`` hears of every ``n``
    bytes dropped that way."""

    def __init__(self, *args: Any, on_stale: Callable[[int], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.silence_s = silence_s(int(kwargs.get("baudrate", 19200)))
        self.on_stale = on_stale

    def callback_new_connection(self) -> _SilenceFramedHandler:
        return _SilenceFramedHandler(self)
