"""Capture a waveform buffer each time its sequence counter moves; count missed buffers.

Sample times come from the sequence number, not from the moment of reading: consecutive
buffers join without jitter and missed ones leave a gap of exactly their length.
"""

from __future__ import annotations

import numpy as np

from app.data.acquire.plan import split_block
from app.data.tagmap.model import Waveform
from app.fieldbus.codec import decode, to_engineering

WRAP = 1 << 16


class WaveCapture:
    """State of one waveform buffer between checks; ``on_block`` receives each new block.

    ``on_block(t, values, index)`` gets float64 sample times and values and the unwrapped
    buffer index. ``missed`` counts buffers the device wrote that were never read; ``torn``
    those whose counter moved while being read (not kept, also counted as missed).
    """

    def __init__(self, wf: Waveform, on_block) -> None:
        self.wf = wf
        self.reads = split_block(wf.table, wf.address, wf.words)
        self.on_block = on_block
        self.last_index: int | None = None
        self.last_time = 0.0
        self.t_ref: float | None = None
        self.k_ref = 0
        self.blocks = 0
        self.missed = 0
        self.torn = 0
        self.gaps: list[tuple[int, int]] = []

    def _unwrap(self, seq: int, now: float) -> int:
        if self.last_index is None:
            return seq
        # The index closest to what the elapsed time predicts, among those equal to seq
        # modulo 2**16: right across counter wraps and long link losses alike.
        guess = self.last_index + round((now - self.last_time) / self.wf.period_s)
        base = guess - ((guess - seq) % WRAP)
        return base + WRAP if guess - base > WRAP // 2 else base

    def check(self, link, now: float) -> bool:
        """Read the counter; if it moved, read and deliver the buffer. True if delivered.

        ``now`` is the capture time (wall seconds). Raises DeviceError from the link.
        """
        wf = self.wf
        seq = link.read(wf.sequence_table, wf.sequence_address, 1)[0]
        index = self._unwrap(seq, now)
        if self.last_index is not None and index <= self.last_index:
            return False
        regs: list[int] = []
        for r in self.reads:
            regs.extend(link.read(r.table, r.address, r.count))
        after = link.read(wf.sequence_table, wf.sequence_address, 1)[0]
        if self.last_index is not None and index - self.last_index > 1:
            self._miss(self.last_index + 1, index - self.last_index - 1)
        self.last_index, self.last_time = index, now
        if after != seq:
            self.torn += 1
            self._miss(index, 1)
            return False
        raw = decode(np.asarray(regs, dtype=np.uint16), wf.type, word_order=wf.word_order,
                      byte_order=wf.byte_order)
        values = to_engineering(raw, wf.scale, wf.offset)
        if self.t_ref is None:
            self.t_ref, self.k_ref = now - wf.period_s, index
        first = (index - self.k_ref) * wf.length
        t = self.t_ref + (first + np.arange(wf.length)) / wf.sample_rate_hz
        self.on_block(t, values, index)
        self.blocks += 1
        return True

    def _miss(self, first: int, n: int) -> None:
        self.missed += n
        self.gaps.append((first, n))
