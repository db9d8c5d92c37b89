"""Demo sensor input: a dataset (channels, samples) replayed in real time as blocks and windows."""

from __future__ import annotations

import numpy as np

from app.devices.protocol.registers import WAVE_CAPACITY


class ReplaySensor:
    """Replays ``data`` (C, N) from the start, wrapping around, ``block`` samples at a time.

    The latest block is what the waveform buffer serves (sequence counter +1 per block);
    :meth:`window` gives the latest L samples for the model, whatever the block length.
    """

    def __init__(self, data: np.ndarray, sample_rate: float, *, block: int | None = None,
                 speed: float = 1.0) -> None:
        arr = np.asarray(data, dtype=np.float32)
        if arr.ndim == 1:
            arr = arr[np.newaxis]
        if arr.ndim != 2 or arr.shape[1] < 2 or not np.all(np.isfinite(arr)):
            raise ValueError("the replay data must be finite, shaped (channels, samples)")
        self.data, self.rate, self.speed = arr, float(sample_rate), float(speed)
        self.channels, self.n = arr.shape
        self.block = int(block or min(WAVE_CAPACITY // self.channels, 1024))
        if self.block * self.channels > WAVE_CAPACITY:
            raise ValueError(f"a block of {self.block} x {self.channels} samples exceeds the "
                             f"waveform buffer ({WAVE_CAPACITY})")
        self.pos = 0
        self.seq = 0
        self.latest = np.zeros((self.channels, self.block), dtype=np.float32)
        #: (sequence, block) replaced as one object, so a reader never mixes two blocks.
        self.current: tuple[int, np.ndarray] = (0, self.latest)

    @property
    def period_s(self) -> float:
        """Seconds between blocks at the replay speed."""
        return self.block / self.rate / self.speed

    def _take(self, start: int, length: int) -> np.ndarray:
        idx = np.arange(start, start + length) % self.n
        return self.data[:, idx]

    def advance(self) -> np.ndarray:
        """The next block: it becomes the waveform buffer, and the sequence counter moves."""
        self.latest = self._take(self.pos, self.block)
        self.pos = (self.pos + self.block) % self.n
        self.seq += 1
        self.current = (self.seq, self.latest)
        return self.latest

    def window(self, length: int, channels: int) -> np.ndarray | None:
        """The latest ``length`` samples of the first ``channels`` channels (None if fewer)."""
        if channels > self.channels:
            return None
        return self._take(self.pos - length, length)[:channels]
