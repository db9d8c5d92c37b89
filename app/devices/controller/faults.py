"""Fault knobs of the reference controller's server, for the reliability tests (T16-T20)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

#: (function code, address, count) -> should this request get the injected fault?
Match = Callable[[int, int, int], bool]


def any_request(fc: int, address: int, count: int) -> bool:
    return True


@dataclass
class ServerFaults:
    """Changed by tests while the server runs; every knob is off by default.

    ``hang``: no request is answered (until cleared or the server stops); ``hang_from``
    arms it at an exact request: the first request it matches, and every one after it, go
    unanswered (so a test can make the controller fall silent mid-flash at chunk k, not
    after some time).
    ``inject(code, times, match)``: the next ``times`` matching requests get Modbus
    exception ``code`` instead of being carried out.
    ``cut_after_chunk``: after the n-th accepted transfer chunk (counted from when it is
    set) every open connection is reset, like a pulled cable on TCP; ``cut_before``
    resets before that chunk is applied instead; for ``down_s`` seconds after a cut every
    request gets its connection reset too (the link stays down; ``math.inf`` keeps it down
    until :meth:`clear`). ``dropped`` counts the requests lost that way.
    """

    hang: bool = False
    hang_from: Match | None = None
    delay_s: float = 0.0
    cut_after_chunk: int | None = None
    cut_before: bool = False
    chunks_seen: int = 0
    down_s: float = 0.0
    down_until: float = 0.0
    dropped: int = 0
    _plan: list[tuple[int, int, Match]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def inject(self, code: int, times: int = 1, match: Match = any_request) -> None:
        with self._lock:
            self._plan.append((code, times, match))

    def clear(self) -> None:
        with self._lock:
            self._plan.clear()
        self.hang, self.hang_from, self.delay_s, self.cut_after_chunk = False, None, 0.0, None
        self.down_until = 0.0

    @property
    def down(self) -> bool:
        """True while a cut link stays down."""
        return time.monotonic() < self.down_until

    def holds(self, fc: int, address: int, count: int) -> bool:
        """True if this request goes unanswered (``hang``, or ``hang_from`` matches now)."""
        if not self.hang and self.hang_from is not None and self.hang_from(fc, address, count):
            self.hang, self.hang_from = True, None
        return self.hang

    def take(self, fc: int, address: int, count: int) -> int | None:
        """The exception code to answer this request with, if one is planned."""
        with self._lock:
            for i, (code, times, match) in enumerate(self._plan):
                if match(fc, address, count):
                    if times <= 1:
                        del self._plan[i]
                    else:
                        self._plan[i] = (code, times - 1, match)
                    return code
        return None

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(times for _, times, _ in self._plan)

    def chunk_cut(self, before: bool) -> bool:
        """Called before and after each chunk is applied; True if the link must be cut now."""
        if self.cut_after_chunk is None or before != self.cut_before:
            return False
        if before:
            due = self.chunks_seen + 1 >= self.cut_after_chunk
        else:
            self.chunks_seen += 1
            due = self.chunks_seen >= self.cut_after_chunk
        if due:
            self.cut_after_chunk, self.chunks_seen = None, 0
            self.down_until = time.monotonic() + self.down_s
        elif before:
            self.chunks_seen += 1
        return due
