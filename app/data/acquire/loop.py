"""The acquisition loop: poll tags, catch waveform buffers, survive link losses, spool rows.

A plain function with progress and cancel: cancelling *stops* the recording (the samples
are kept and finalized); it does not throw them away.
"""

from __future__ import annotations

import logging
import math
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.data.acquire.result import (
    DEVICE_ERROR,
    DURATION,
    LINK_LOST,
    STOPPED,
    AcquisitionResult,
    AcquisitionStats,
)
from app.data.acquire.session import TAGS, AcqSession
from app.data.acquire.tags import TagPoller
from app.data.acquire.waveform import WaveCapture
from app.data.spool import make_work_dir
from app.data.tagmap.model import TagMap
from app.fieldbus import (
    TRANSIENT,
    DeviceError,
    ExceptionResponse,
    LinkLost,
    LinkTimeout,
    ModbusLink,
)

log = logging.getLogger(__name__)

MAX_SILENT_POLLS = 3  # consecutive timeouts after which the link counts as lost
SLEEP_SLICE_S = 0.05  # the longest sleep between cancel checks
FLUSH_S = 0.5  # spool flush interval (the contract is at most 1 s)

RowFn = Callable[[float, list[float]], None]
BlockFn = Callable[[str, np.ndarray, np.ndarray], None]


class _Run:
    """One acquisition in progress (state shared by the loop and the reconnect logic)."""

    def __init__(self, tagmap: TagMap, link: ModbusLink, session: AcqSession,
                 cancel: CancelToken, on_row: RowFn | None, on_block: BlockFn | None) -> None:
        self.tagmap, self.link, self.session, self.cancel = tagmap, link, session, cancel
        self.on_row = on_row
        self.stats = AcquisitionStats()
        self.gaps: list[list[float | None]] = []
        self.mono0, self.wall0 = time.monotonic(), time.time()
        self.poller = TagPoller(tagmap) if tagmap.tags else None
        self.waves = []
        for wf in tagmap.waveforms:
            sink = session.sinks[wf.name]

            def deliver(t, v, k, _sink=sink, _name=wf.name):
                _sink.add_block(t, v, k)
                if on_block is not None:
                    on_block(_name, t, v)
            self.waves.append(WaveCapture(wf, deliver))

    def wall(self) -> float:
        """Wall time from the monotonic clock: a clock jump cannot bend the time axis."""
        return self.wall0 + (time.monotonic() - self.mono0)

    def poll_tags(self) -> None:
        assert self.poller is not None  # called only when the tag map has tags
        before = self.wall()
        row = self.poller.poll(self.link)
        t = (before + self.wall()) / 2.0  # the values were captured during the request
        self.stats.polls += 1
        self.session.sinks[TAGS].add_row([t, *row])
        if self.on_row is not None:
            self.on_row(t, row)

    def probe(self) -> None:
        """One full read of everything; a device or tag-map fault raises here, unrecorded."""
        if self.poller is not None:
            self.poll_tags()
        for cap in self.waves:
            cap.check(self.link, self.wall())

    def reconnect(self, deadline: float) -> bool:
        """Retry the link until it answers again or the reconnect window closes."""
        self.stats.link_losses += 1
        self.gaps.append([self.wall(), None])
        self.session.flush()
        self.link.close()
        give_up = min(time.monotonic() + self.tagmap.connection.reconnect_timeout_s, deadline)
        delay = 0.1
        while time.monotonic() < give_up and not self.cancel.cancelled:
            _sleep(min(delay, give_up - time.monotonic()), self.cancel)
            try:
                self.link.connect()
                self.probe()
            except DeviceError as exc:
                log.debug("reconnect to %s failed: %s", self.link.endpoint, exc)
                self.link.close()
                delay = min(delay * 2, 2.0)
                continue
            self.gaps[-1][1] = self.wall()
            self.stats.reconnects += 1
            log.info("link to %s restored", self.link.endpoint)
            return True
        return False


def _sleep(seconds: float, cancel: CancelToken) -> None:
    end = time.monotonic() + max(seconds, 0.0)
    while not cancel.cancelled and (left := end - time.monotonic()) > 0:
        time.sleep(min(left, SLEEP_SLICE_S))


def acquire(tagmap: TagMap, *, duration_s: float | None = None, work_dir: Path | None = None,
            progress: ProgressFn = no_progress, cancel: CancelToken = NEVER_CANCELLED,
            on_row: RowFn | None = None, on_block: BlockFn | None = None,
            free_run: bool = False, link: ModbusLink | None = None) -> AcquisitionResult:
    """Record ``tagmap``'s device until ``duration_s`` passes or ``cancel`` is set.

    ``on_row(t, values)`` and ``on_block(name, t, samples)`` feed a live view (called on
    this thread). ``free_run`` polls as fast as the device answers (benchmarks). Raises
    LinkLost, LinkTimeout or ExceptionResponse if the device cannot be read at the start
    (nothing is recorded then); later faults end or interrupt the recording instead.
    """
    link = link or ModbusLink(tagmap.connection.endpoint(), tagmap.connection.retry_policy())
    folder = make_work_dir(work_dir, "plantml-acq-")
    try:
        link.connect()
        session = AcqSession(tagmap, folder, time.time())
    except BaseException:
        link.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    run = _Run(tagmap, link, session, cancel, on_row, on_block)
    try:
        run.probe()
    except BaseException:
        link.close()
        session.close()
        shutil.rmtree(folder, ignore_errors=True)
        raise
    try:
        end, error = _loop(run, duration_s, progress, free_run)
    finally:
        link.close()
        session.close()
    run.stats.requests = link.stats.requests
    for cap in run.waves:
        run.stats.blocks[cap.wf.name] = cap.blocks
        run.stats.missed_buffers[cap.wf.name] = cap.missed
        run.stats.torn_buffers[cap.wf.name] = cap.torn
    gaps = [(a, b) for a, b in run.gaps]
    interrupted = bool(gaps) or end in (LINK_LOST, DEVICE_ERROR)
    progress(1.0, f"recording ended: {end}")
    return session.result(end, interrupted, error, run.stats, gaps, run.wall())


def _loop(run: _Run, duration_s: float | None, progress: ProgressFn,
          free_run: bool) -> tuple[str, str | None]:
    start = time.monotonic()
    deadline = start + duration_s if duration_s is not None else math.inf
    period = 1.0 / run.tagmap.poll_rate_hz
    next_poll = start + period
    next_wave = [start + cap.wf.check_interval_s for cap in run.waves]
    last_flush = start
    silent = 0
    while True:
        if run.cancel.cancelled:
            return STOPPED, None
        now = time.monotonic()
        if now >= deadline:
            return DURATION, None
        try:
            if run.poller is not None and (free_run or now >= next_poll):
                run.poll_tags()
                next_poll += period
                if next_poll < now:  # fell behind: skip ahead instead of bursting
                    run.stats.late_polls += 1
                    next_poll = now + period
            for i, cap in enumerate(run.waves):
                if free_run or now >= next_wave[i]:
                    cap.check(run.link, run.wall())
                    next_wave[i] = now + cap.wf.check_interval_s
            silent = 0
        except LinkTimeout as exc:
            run.stats.timeouts += 1
            run.stats.failed_polls += 1
            silent += 1
            log.warning("%s", exc)
            if silent >= MAX_SILENT_POLLS and not run.reconnect(deadline):
                return _why_stopped(run, deadline, f"{exc} ({silent} times in a row)")
        except ExceptionResponse as exc:
            run.stats.exceptions[exc.exception_code] += 1
            run.stats.failed_polls += 1
            if exc.exception_code not in TRANSIENT:
                return DEVICE_ERROR, str(exc)
        except LinkLost as exc:
            log.warning("%s", exc)
            if not run.reconnect(deadline):
                return _why_stopped(run, deadline, str(exc))
            silent = 0
        now = time.monotonic()
        if now - last_flush >= FLUSH_S:
            run.session.flush()
            last_flush = now
            if duration_s:
                progress(min((now - start) / duration_s, 0.99), "recording")
            else:  # until stopped: no fraction to show, only that it is alive
                progress(0.0, f"recording ({run.stats.polls} polls)")
        if not free_run:
            wake = min([next_poll if run.poller is not None else math.inf, *next_wave,
                        deadline])
            _sleep(min(wake - time.monotonic(), FLUSH_S), run.cancel)


def _why_stopped(run: _Run, deadline: float, error: str) -> tuple[str, str | None]:
    if run.cancel.cancelled:
        return STOPPED, None
    if time.monotonic() >= deadline:
        return DURATION, None
    return LINK_LOST, error
