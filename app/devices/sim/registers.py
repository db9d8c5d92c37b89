"""The simulator's register image: process tags from a time model, a replayed waveform buffer.

Values are computed when a request reads them (from the monotonic clock), so the image is
always current without a timer task. The layout is documented in ``docs/tagmap.md``.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from app.fieldbus.codec import encode

HOLDING_SIZE = 64
SEQ_ADDRESS = 0  # input register: waveform sequence counter
WAVE_ADDRESS = 2  # input registers: the waveform buffer (float32, big word and byte order)
PROCESS_REFRESH_S = 0.01
FUNCTION_TABLE = {1: "coil", 5: "coil", 15: "coil", 2: "discrete", 3: "holding", 6: "holding",
                  16: "holding", 22: "holding", 23: "holding", 4: "input"}

#: Process tags: name -> (holding address, type, word order, scale, unit).
PROCESS_TAGS = {
    "temperature": (0, "int16", "big", 0.1, "degC"),
    "speed": (1, "uint16", "big", 1.0, "rpm"),
    "pressure": (2, "float32", "big", 1.0, "bar"),
    "flow": (4, "float32", "little", 1.0, "m3/h"),
    "cycles": (6, "uint32", "big", 1.0, ""),
    "energy": (8, "float64", "big", 1.0, "kWh"),
    "vibration_rms": (12, "int16", "big", 0.001, "g"),
}


def process_values(t: float) -> dict[str, float]:
    """Engineering values of the process tags ``t`` seconds after the start."""
    return {"temperature": 60.0 + 5.0 * math.sin(2 * math.pi * t / 30.0),
            "speed": 1797.0 + 3.0 * math.sin(2 * math.pi * t / 7.0),
            "pressure": 4.2 + 0.1 * math.sin(2 * math.pi * t / 11.0),
            "flow": 12.5 + 0.5 * math.cos(2 * math.pi * t / 13.0),
            "cycles": float(int(t * 10.0) & 0xFFFFFFFF),
            "energy": 1000.0 + 0.01 * t,
            "vibration_rms": 0.25 + 0.05 * math.sin(2 * math.pi * t / 5.0)}


def process_registers(t: float) -> list[int]:
    """Holding registers 0..12 for time ``t`` (raw = engineering / scale)."""
    regs = [0] * 13
    for name, value in process_values(t).items():
        addr, kind, word_order, scale, _ = PROCESS_TAGS[name]
        raw = value / scale
        if kind.startswith(("int", "uint")):
            raw = round(raw)
        words = encode(np.array([raw]), kind, word_order=word_order).tolist()
        regs[addr:addr + len(words)] = words
    return regs


@dataclass
class Faults:
    """Fault knobs, changed by tests while the simulator runs.

    ``exceptions`` maps (table, address) to an exception code answered to any read that
    covers that address (``answered`` counts them per key, so a test can wait for them);
    ``hang`` makes every request go unanswered.
    """

    exceptions: dict[tuple[str, int], int] = field(default_factory=dict)
    answered: Counter[tuple[str, int]] = field(default_factory=Counter)
    hang: bool = False


class RegisterModel:
    """Keeps the holding and input blocks current; called from the server's action hook."""

    def __init__(self, waveform: np.ndarray | None, sample_rate: float, buffer_len: int,
                 clock=time.monotonic) -> None:
        self.wave = None if waveform is None else np.asarray(waveform, dtype=np.float32)
        self.rate = sample_rate
        self.n = buffer_len
        self.clock = clock
        self.t0 = clock()
        self.block = -1
        self.process_at = -1.0
        self.process = process_registers(0.0)

    @property
    def input_size(self) -> int:
        """Input registers needed: sequence, a spare, then the buffer."""
        return WAVE_ADDRESS + 2 * self.n

    def sequence(self) -> int:
        """Index of the buffer the device holds now (not wrapped)."""
        return int((self.clock() - self.t0) * self.rate / self.n)

    def refresh(self, table: str, start: int, regs: list[int]) -> None:
        """Bring ``regs`` (the runtime list of ``table``, from ``start``) up to date."""
        if table == "holding":
            now = self.clock() - self.t0
            if now - self.process_at >= PROCESS_REFRESH_S:
                # Re-encoding costs more than a request; a real device also updates its
                # image on its own cycle, not per request.
                self.process, self.process_at = process_registers(now), now
            off = -start
            regs[off:off + len(self.process)] = self.process
        elif table == "input" and self.wave is not None:
            k = self.sequence()
            if k != self.block:
                self.block = k
                idx = (np.arange(k * self.n, (k + 1) * self.n)) % len(self.wave)
                words = encode(self.wave[idx], "float32").tolist()
                off = WAVE_ADDRESS - start
                regs[off:off + len(words)] = words
                regs[SEQ_ADDRESS - start] = k & 0xFFFF
