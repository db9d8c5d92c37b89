"""Relay between two pty pairs that paces bytes like an RS-485 line and injects faults."""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import threading
import time
import tty
from collections import deque
from dataclasses import dataclass, field

from app.fieldbus.timing import BITS_PER_CHAR, GAP_CHARS

log = logging.getLogger(__name__)

GRANULARITY_S = 0.0005  # bytes are handed over in batches this often, never early
TO_DEVICE, TO_CLIENT = 0, 1


@dataclass
class LineFaults:
    """Knobs, changed while the relay runs.

    ``cut``: every byte is lost (a pulled cable). ``stuck``: bytes are held and delivered
    only when cleared (a hung converter). ``delay_s``: extra latency on answers.
    ``noise``: probability that a frame is damaged, by a flipped byte, inserted noise
    bytes or a cut-off tail (``noise_modes``).
    """

    cut: bool = False
    stuck: bool = False
    delay_s: float = 0.0
    noise: float = 0.0
    noise_modes: tuple[str, ...] = ("flip", "insert", "truncate")


@dataclass
class LineStats:
    """Per direction (to the device, to the client): ``taken`` bytes read from the sender,
    ``bytes`` put on the line (after damage), ``frames`` begun after an idle line."""

    taken: list[int] = field(default_factory=lambda: [0, 0])
    frames: list[int] = field(default_factory=lambda: [0, 0])
    bytes: list[int] = field(default_factory=lambda: [0, 0])
    damaged: int = 0
    dropped: int = 0


@dataclass
class _Segment:
    start: float
    data: bytearray
    sent: int = 0


class LineSimulator:
    """A test tool, Linux only (``os.openpty``): ``client_port`` and ``device_port`` are pty
    paths that the two programs open as serial ports.

    ptys ignore baud rates, so without this relay a serial benchmark measures nothing.
    Both directions share one half-duplex line: a byte takes ``bits_per_char / baud``
    seconds, and a frame that starts after the line went idle waits ``gap_chars``
    characters of silence first. Bytes are handed over in batches every half millisecond,
    never before their time.
    """

    def __init__(self, baud: int = 115200, *, bits_per_char: int = BITS_PER_CHAR,
                 gap_chars: float = GAP_CHARS, seed: int = 0) -> None:
        self.baud, self.char_s = baud, bits_per_char / baud
        self.gap_s = gap_chars * self.char_s
        self.faults, self.stats = LineFaults(), LineStats()
        self.rng = random.Random(seed)
        self._fds: list[int] = []
        self._masters: tuple[int, int] = (-1, -1)
        self.client_port = self.device_port = ""
        self._queues: tuple[deque[_Segment], deque[_Segment]] = (deque(), deque())
        self._held: list[tuple[int, bytes]] = []
        self._line_free = 0.0
        self._last_dir = TO_DEVICE
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _pair(self) -> tuple[int, str]:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line discipline: bytes pass as they are
        os.set_blocking(master, False)
        self._fds += [master, slave]  # the slave stays open so the pty never hangs up
        return master, os.ttyname(slave)

    def start(self) -> LineSimulator:
        m_client, self.client_port = self._pair()
        m_device, self.device_port = self._pair()
        self._masters = (m_client, m_device)
        self._thread = threading.Thread(target=self._run, name="line-simulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)
            self._thread = None
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._fds = []

    def __enter__(self) -> LineSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def release(self) -> None:
        """End ``stuck``: what was held goes on the line now."""
        self.faults.stuck = False

    # -- the relay ----------------------------------------------------------------------
    def _damage(self, data: bytearray) -> bytearray:
        mode = self.rng.choice(self.faults.noise_modes)
        self.stats.damaged += 1
        pos = self.rng.randrange(len(data))
        if mode == "flip":
            data[pos] ^= self.rng.randrange(1, 256)
        elif mode == "insert":
            noise = bytes(self.rng.randrange(256) for _ in range(self.rng.randint(1, 4)))
            data[pos:pos] = noise
        else:
            del data[max(1, pos):]
        return data

    def _enqueue(self, direction: int, data: bytes, now: float) -> None:
        faults = self.faults
        self.stats.taken[direction] += len(data)
        if faults.cut:
            self.stats.dropped += len(data)
            return
        continued = now < self._line_free and direction == self._last_dir
        if continued:
            start = self._line_free  # the rest of a frame the sender is still writing
        else:
            start = max(now, self._line_free + self.gap_s)
            self.stats.frames[direction] += 1
        if direction == TO_CLIENT and faults.delay_s:
            start += faults.delay_s
        buf = bytearray(data)
        # Noise strikes a frame, not each piece the sender's writes happen to arrive in.
        if faults.noise and not continued and self.rng.random() < faults.noise:
            buf = self._damage(buf)
        self._queues[direction].append(_Segment(start, buf))
        self._line_free = start + len(buf) * self.char_s
        self._last_dir = direction
        self.stats.bytes[direction] += len(buf)

    def _deliver(self, now: float) -> float:
        """Write every byte whose time has come; returns when the next one is due."""
        nxt = now + 0.05
        for direction, queue in enumerate(self._queues):
            target = self._masters[1] if direction == TO_DEVICE else self._masters[0]
            while queue:
                seg = queue[0]
                due = min(len(seg.data), int((now - seg.start) / self.char_s))
                if due > seg.sent:
                    with contextlib.suppress(BlockingIOError, OSError):
                        seg.sent += os.write(target, bytes(seg.data[seg.sent:due]))
                if seg.sent < len(seg.data):
                    nxt = min(nxt, seg.start + (seg.sent + 1) * self.char_s)
                    break
                queue.popleft()
        return nxt

    def _run(self) -> None:
        m_client, m_device = self._masters
        while not self._stop.is_set():
            now = time.monotonic()
            nxt = self._deliver(now)
            wait = max(GRANULARITY_S, nxt - time.monotonic())
            try:
                ready, _, _ = select.select([m_client, m_device], [], [], min(wait, 0.05))
            except (OSError, ValueError):
                return
            now = time.monotonic()
            if not self.faults.stuck and self._held:
                for direction, data in self._held:
                    self._enqueue(direction, data, now)
                self._held = []
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                direction = TO_DEVICE if fd == m_client else TO_CLIENT
                if self.faults.stuck:
                    self._held.append((direction, data))
                else:
                    self._enqueue(direction, data, now)
