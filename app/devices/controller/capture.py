"""The controller's capture ring: its latest raw windows with their predictions, each with an
id, and the holding-register block (HR 1000-) through which a master reads one of them."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import numpy as np

from app.devices.controller.engine import Prediction
from app.devices.controller.flashstate import ControllerConfig
from app.devices.controller.machine import FlashMachine
from app.devices.controller.sensor import ReplaySensor
from app.devices.protocol import registers as r
from app.devices.protocol.codes import INVALID_PREDICTION
from app.devices.protocol.words import crc32_words, f32_words, words_u32
from app.fieldbus.exceptions import ExceptionCode as X

DEFAULT_DEPTH = 64
MAX_DEPTH = 4096
SELECT = r.FIELDS["capture_select"]
DATA_REGS = 2 * r.MAX_CAPTURE_SAMPLES


class Runtime(Protocol):
    """What the ring reads of the runtime (kept apart from runtime.py: no import circle)."""

    inference_count: int
    config: ControllerConfig
    sensor: ReplaySensor | None
    machine: FlashMachine


class CaptureRefused(Exception):
    """A select the ring cannot serve: answered with Modbus exception ``exc_code``."""

    def __init__(self, exc_code: int, text: str) -> None:
        super().__init__(text)
        self.exc_code = exc_code


@dataclass(frozen=True)
class Captured:
    """One window as the model saw it, and what the model said about it."""

    window_id: int
    time: datetime
    rate: float
    samples: np.ndarray  # float32 (channels, samples)
    label: float
    scores: np.ndarray
    input_reason: int
    model_version: int
    model_sha256: str | None

    def page(self) -> dict[str, object]:
        ts = self.time.timestamp()
        return {"capture_id": self.window_id, "capture_time_s": int(ts),
                "capture_time_ms": int(round((ts - int(ts)) * 1000)) % 1000,
                "capture_channels": self.samples.shape[0],
                "capture_samples": self.samples.shape[1],
                "capture_input_reason": self.input_reason, "capture_rate": self.rate,
                "capture_label": self.label,
                "capture_n_scores": min(len(self.scores), r.MAX_SCORES),
                "capture_model_version": self.model_version,
                "capture_model_sha256": self.model_sha256}


class CaptureRing:
    """The newest ``depth`` windows, oldest dropped first; one selected window kept apart.

    The selection is a copy: once a master selected a window, the page and the samples show
    it unchanged while the ring moves on, until the next select (by any master).
    """

    def __init__(self, depth: int = DEFAULT_DEPTH) -> None:
        if not 1 <= depth <= MAX_DEPTH:
            raise ValueError(f"the capture ring holds 1 to {MAX_DEPTH} windows, not {depth}")
        self.depth = depth
        self._ring: deque[Captured] = deque(maxlen=depth)
        self._lock = threading.Lock()
        self._selected: Captured | None = None
        self._data: list[int] = []       # the selected window's sample registers
        self._data_crc = 0
        self._model: tuple[int, tuple[int, str | None]] | None = None  # (engine id, model)

    # -- the runtime's side -------------------------------------------------------------
    def add(self, rt: Runtime, window: np.ndarray, result: Prediction) -> None:
        """Keep one classified window; its id is the value ``inference_count`` takes for it
        (the window's number since boot)."""
        samples = np.asarray(window, dtype=np.float32)
        if samples.size > r.MAX_CAPTURE_SAMPLES:
            return  # larger than the block can show: not captured (documented)
        version, sha = self._version(rt)
        valid = result.valid
        item = Captured(
            window_id=rt.inference_count + 1, time=rt.config.clock.now(),
            rate=float(rt.sensor.rate) if rt.sensor is not None else 0.0,
            samples=samples.copy(),
            label=float(result.prediction) if valid else INVALID_PREDICTION,
            scores=np.asarray(result.scores, dtype=np.float64) if valid
            else np.zeros(len(result.scores)),
            input_reason=int(result.input_reason), model_version=version, model_sha256=sha)
        with self._lock:
            self._ring.append(item)

    def _version(self, rt: Runtime) -> tuple[int, str | None]:
        machine = rt.machine
        key = id(machine.engine)
        if self._model is None or self._model[0] != key:
            disk = machine.disk
            slot = disk.slots.get(disk.active or "")
            self._model = (key, (slot.model_version, slot.sha256) if slot else (0, None))
        return self._model[1]

    # -- the master's side --------------------------------------------------------------
    def select(self, values: list[int]) -> None:
        """A write of ``capture_select``: two registers, the id (0 clears)."""
        if len(values) != SELECT.count:
            raise CaptureRefused(X.ILLEGAL_DATA_VALUE, "capture_select takes two registers")
        wanted = words_u32(values)
        with self._lock:
            if wanted == 0:
                self._selected, self._data, self._data_crc = None, [], 0
                return
            item = next((c for c in self._ring if c.window_id == wanted), None)
            if item is None:
                raise CaptureRefused(X.ILLEGAL_DATA_VALUE, f"window {wanted} is not in the "
                                     "ring")
            if self._selected is not None and self._selected.window_id == wanted:
                return
            data = f32_words(item.samples.reshape(-1))
            self._selected, self._data, self._data_crc = item, data, crc32_words(data)

    def page(self) -> list[int]:
        """HR 1000-1075: the ring's extent, then the selected window's page, sealed."""
        with self._lock:
            held = len(self._ring)
            values: dict[str, object] = {
                "capture_select": self._selected.window_id if self._selected else 0,
                "capture_depth": self.depth, "capture_held": held,
                "capture_newest": self._ring[-1].window_id if held else 0,
                "capture_oldest": self._ring[0].window_id if held else 0,
                "capture_data_crc": self._data_crc}
            sel = self._selected
        page = [0] * r.CAPTURE_COUNT
        if sel is not None:
            values.update(sel.page())
            field = r.FIELDS["capture_scores"]
            scores = np.zeros(r.MAX_SCORES)
            n = min(len(sel.scores), r.MAX_SCORES)
            scores[:n] = sel.scores[:n]
            start = field.address - r.CAPTURE_BASE
            page[start:start + field.count] = f32_words(scores)
        r.place(page, r.CAPTURE_BASE, values)
        return r.seal(page, r.FIELDS["capture_crc"], r.CAPTURE_BASE)

    def read(self, address: int, count: int) -> list[int] | None:
        """Holding registers of the capture block, or None outside it."""
        end = address + count
        if address >= r.CAPTURE_BASE and end <= r.CAPTURE_BASE + r.CAPTURE_COUNT:
            return self.page()[address - r.CAPTURE_BASE:end - r.CAPTURE_BASE]
        base = r.CAPTURE_DATA_BASE
        if base <= address and end <= base + DATA_REGS:
            with self._lock:
                data = self._data
            part = data[address - base:end - base]
            return part + [0] * (count - len(part))  # past the window: zeros
        return None

    def snapshot(self) -> list[Captured]:
        """The windows held, oldest first (tests and the runtime's own use)."""
        with self._lock:
            return list(self._ring)


def is_select(address: int, count: int) -> bool:
    """True for a write that targets ``capture_select``."""
    return address == SELECT.address and count >= 1

