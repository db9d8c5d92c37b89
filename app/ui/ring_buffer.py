"""Thread-safe numpy ring buffers that an acquisition worker fills and a live plot reads."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import numpy as np

log = logging.getLogger(__name__)

#: Samples kept per waveform stream (about 20 s at 12 kHz).
WAVE_CAPACITY = 1 << 18

#: Rows kept of the polled process tags (minutes at the usual poll rates).
TAG_CAPACITY = 1 << 13

#: Name of the stream that holds the polled tags, one column per tag.
TAGS = "tags"


class RingBuffer:
    """The newest ``capacity`` rows of (time, values); :meth:`append` from any thread,
    :meth:`snapshot` returns copies in time order.

    Each append is one vectorised copy under a lock, so a producer delivering a block of
    thousands of samples costs the same as one delivering a single row.
    """

    def __init__(self, capacity: int, width: int = 1) -> None:
        if capacity < 1 or width < 1:
            raise ValueError("capacity and width must be positive")
        self.capacity = int(capacity)
        self.width = int(width)
        self._t = np.zeros(self.capacity, dtype=np.float64)
        self._v = np.zeros((self.capacity, self.width), dtype=np.float64)
        self._written = 0
        self._lock = threading.Lock()

    def append(self, t: np.ndarray | Sequence[float] | float,
               values: np.ndarray | Sequence[float] | float) -> None:
        """Add rows: ``t`` of shape (n,), ``values`` of shape (n, width) (or (n,) when
        width is 1); only the newest ``capacity`` rows are kept."""
        t = np.asarray(t, dtype=np.float64).reshape(-1)
        v = np.asarray(values, dtype=np.float64).reshape(len(t), self.width)
        n = len(t)
        if n == 0:
            return
        skipped = max(0, n - self.capacity)  # rows older than the newest ``capacity``
        if skipped:
            t, v = t[skipped:], v[skipped:]
        with self._lock:
            start = (self._written + skipped) % self.capacity
            first = min(len(t), self.capacity - start)
            self._t[start:start + first] = t[:first]
            self._v[start:start + first] = v[:first]
            rest = len(t) - first
            if rest:
                self._t[:rest] = t[first:]
                self._v[:rest] = v[first:]
            self._written += n

    @property
    def written(self) -> int:
        """Rows appended so far, dropped ones included: changes whenever data arrives."""
        return self._written

    def __len__(self) -> int:
        return min(self._written, self.capacity)

    def snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """Copies of the kept rows, oldest first: times (n,) and values (n, width)."""
        with self._lock:
            n = min(self._written, self.capacity)
            if self._written <= self.capacity:
                return self._t[:n].copy(), self._v[:n].copy()
            start = self._written % self.capacity
            order = np.r_[start:self.capacity, 0:start]
            return self._t[order], self._v[order]

    def clear(self) -> None:
        """Forget every row."""
        with self._lock:
            self._written = 0


class LiveFeed:
    """The acquisition callbacks of a live view: :meth:`on_block` and :meth:`on_row` run on
    the acquisition's worker thread and only append to ring buffers (no Qt call, no widget
    reference), so the worker never waits for the GUI and never holds a widget."""

    def __init__(self, wave_capacity: int = WAVE_CAPACITY,
                 tag_capacity: int = TAG_CAPACITY) -> None:
        self.wave_capacity = wave_capacity
        self.tag_capacity = tag_capacity
        self._streams: dict[str, RingBuffer] = {}
        self._lock = threading.Lock()
        self._t0: float | None = None
        self._failed: set[str] = set()

    def on_block(self, name: str, t: np.ndarray, samples: np.ndarray) -> None:
        """A waveform block arrived (acquisition ``on_block`` callback)."""
        try:
            t = np.asarray(t, dtype=np.float64).reshape(-1)
            self._stream(f"wave:{name}", 1, self.wave_capacity, t).append(t, samples)
        except Exception:  # noqa: BLE001 - a broken live view must never end a recording
            self._log_once(name)

    def on_row(self, t: float, values: Sequence[float]) -> None:
        """The tags were polled (acquisition ``on_row`` callback)."""
        try:
            row = np.asarray(values, dtype=np.float64).reshape(1, -1)
            stamp = np.array([t], dtype=np.float64)
            self._stream(TAGS, row.shape[1], self.tag_capacity, stamp).append(stamp, row)
        except Exception:  # noqa: BLE001 - a broken live view must never end a recording
            self._log_once(TAGS)

    def streams(self) -> dict[str, RingBuffer]:
        """The buffers by stream name (``tags``, ``wave:NAME``), in order of arrival."""
        with self._lock:
            return dict(self._streams)

    @property
    def t0(self) -> float | None:
        """Time of the first sample received: the live plot's zero."""
        return self._t0

    def clear(self) -> None:
        """Drop every stream (before a new acquisition)."""
        with self._lock:
            self._streams.clear()
            self._t0 = None
            self._failed.clear()

    def _stream(self, name: str, width: int, capacity: int, t: np.ndarray) -> RingBuffer:
        with self._lock:
            if self._t0 is None and len(t):
                self._t0 = float(t[0])
            buf = self._streams.get(name)
            if buf is None or buf.width != width:
                buf = RingBuffer(capacity, width)
                self._streams[name] = buf
            return buf

    def _log_once(self, name: str) -> None:
        if name not in self._failed:
            self._failed.add(name)
            log.exception("live view could not take the samples of %s", name)
