"""Reading a controller's captured windows (HR 1000-, protocol 3) on the workstation: select a
window by its id, read its page and samples, check both CRC-32s."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np

from app.core.errors import Cancelled
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.devices.flash.device import ControllerClient
from app.devices.flash.errors import ProtocolError
from app.devices.protocol import registers as r
from app.devices.protocol.codes import INVALID_PREDICTION
from app.devices.protocol.words import crc32_words, u32_words, words_f32
from app.fieldbus import DeviceRefused, ExceptionCode
from app.fieldbus.limits import READ_REGISTERS

#: Another master may select another window between our select and our reads, or a frame may
#: be damaged past Modbus's CRC-16: the window is selected and read again, this many times.
TRIES = 3
PAGE = "capture page"


@dataclass(frozen=True)
class Ring:
    """The ring's extent: ``held`` windows of ``depth``, ids ``oldest`` to ``newest``."""

    depth: int
    held: int
    newest: int
    oldest: int


@dataclass(frozen=True)
class CapturedWindow:
    """One window as the controller's model saw it, and what the model said."""

    window_id: int
    time: datetime               # UTC, the window's last sample
    rate: float
    samples: np.ndarray = field(repr=False)  # float32 (channels, samples)
    label: float                 # label index predicted; -1.0 invalid input
    scores: np.ndarray = field(repr=False)
    input_reason: int
    model_version: int
    model_sha256: str | None

    @property
    def valid(self) -> bool:
        return self.input_reason == 0 and self.label != INVALID_PREDICTION


@dataclass(frozen=True)
class Capture:
    """What one capture read: the windows oldest first, the ids asked for but gone from the
    ring before they were read, and the wire cost."""

    windows: tuple[CapturedWindow, ...]
    missed: tuple[int, ...]
    requests: int
    data_bytes: int


def _page(client: ControllerClient) -> list[int]:
    crc = r.FIELDS["capture_crc"]
    for _ in range(TRIES):
        regs = client.link.read_holding(r.CAPTURE_BASE, r.CAPTURE_COUNT, PAGE)
        if r.sealed(regs, crc, r.CAPTURE_BASE):
            return regs
        client.link.stats.garbled += 1
    raise ProtocolError(f"{PAGE}: the page at HR {r.CAPTURE_BASE} failed its CRC-32 {TRIES} "
                        "times", step=PAGE, register=r.CAPTURE_BASE)


def _value(regs: list[int], name: str) -> Any:
    return r.decode(r.FIELDS[name], regs, r.CAPTURE_BASE)


def ring(client: ControllerClient) -> Ring:
    """The ring's extent now."""
    regs = _page(client)
    return Ring(depth=_value(regs, "capture_depth"), held=_value(regs, "capture_held"),
                newest=_value(regs, "capture_newest"), oldest=_value(regs, "capture_oldest"))


def _samples(client: ControllerClient, n_regs: int) -> list[int]:
    regs: list[int] = []
    base = r.CAPTURE_DATA_BASE
    for start in range(base, base + n_regs, READ_REGISTERS):
        regs += client.link.read_holding(start, min(READ_REGISTERS, base + n_regs - start),
                                         "captured samples")
    return regs


def read_window(client: ControllerClient, window_id: int) -> CapturedWindow | None:
    """Window ``window_id``; None if it has left the ring (the controller refuses to select
    it with exception 03)."""
    for _ in range(TRIES):
        try:
            client.link.write(r.CAPTURE_BASE, u32_words(window_id), "capture select")
        except DeviceRefused as exc:
            if exc.exception_code == ExceptionCode.ILLEGAL_DATA_VALUE:
                return None
            raise
        page = _page(client)
        if _value(page, "capture_id") != window_id:
            continue  # another master selected another window in between
        channels = int(_value(page, "capture_channels"))
        n = int(_value(page, "capture_samples"))
        if not 1 <= channels * n <= r.MAX_CAPTURE_SAMPLES:
            raise ProtocolError(f"{PAGE}: window {window_id} declares {channels} x {n} "
                                f"samples (at most {r.MAX_CAPTURE_SAMPLES} fit HR "
                                f"{r.CAPTURE_DATA_BASE}-)", step=PAGE, register=1013)
        data = _samples(client, 2 * channels * n)
        if crc32_words(data) != _value(page, "capture_data_crc"):
            client.link.stats.garbled += 1
            continue  # reselected by another master, or a damaged frame: read it again
        ts = int(_value(page, "capture_time_s")) + \
            int(_value(page, "capture_time_ms")) / 1000
        n_scores = min(int(_value(page, "capture_n_scores")),
                       r.MAX_SCORES)
        f = r.FIELDS["capture_scores"]
        scores = words_f32(page[f.address - r.CAPTURE_BASE:f.end - r.CAPTURE_BASE])
        return CapturedWindow(
            window_id=window_id, time=datetime.fromtimestamp(ts, UTC),
            rate=float(_value(page, "capture_rate")),
            samples=words_f32(data).astype(np.float32).reshape(channels, n),
            label=float(_value(page, "capture_label")),
            scores=scores[:n_scores],
            input_reason=int(_value(page, "capture_input_reason")),
            model_version=int(_value(page, "capture_model_version")),
            model_sha256=_value(page, "capture_model_sha256"))
    raise ProtocolError(f"window {window_id} could not be read consistently in {TRIES} tries "
                        "(another master selecting windows at the same time, or a noisy "
                        f"link at HR {r.CAPTURE_BASE})", step=PAGE, register=r.CAPTURE_BASE)


def capture_from(client: ControllerClient, windows: int, *, progress: ProgressFn = no_progress,
                 cancel: CancelToken = NEVER_CANCELLED) -> Capture:
    """The newest ``windows`` windows of the ring (fewer if it holds fewer), oldest first.
    A window that leaves the ring while the older ones are read is named in ``missed``."""
    if windows < 1:
        raise ValueError("capture at least one window")
    stats = client.link.stats
    before = stats.requests
    extent = ring(client)
    if extent.newest == 0:
        return Capture(windows=(), missed=(), requests=stats.requests - before, data_bytes=0)
    first = max(extent.oldest, extent.newest - windows + 1)
    ids = range(first, extent.newest + 1)
    got: list[CapturedWindow] = []
    missed: list[int] = []
    for k, wid in enumerate(ids):
        if cancel.cancelled:
            raise Cancelled("cancelled by the user")
        win = read_window(client, wid)
        if win is None:
            missed.append(wid)
        else:
            got.append(win)
        progress((k + 1) / len(ids), f"window {k + 1} of {len(ids)}")
    return Capture(windows=tuple(got), missed=tuple(missed),
                   requests=stats.requests - before,
                   data_bytes=sum(4 * w.samples.size for w in got))
