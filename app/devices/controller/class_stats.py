"""Running statistics per predicted class over the newest windows (IR 7000-9999): what the
workstation compares with each class's training reference to tell drift from a state."""

from __future__ import annotations

import threading

import numpy as np

from app.devices.protocol import class_stats as cs
from app.devices.protocol.words import f32_words, u32_words

# Pooling every window since boot mixes machine states (a machine in one healthy or faulty
# state looks like drift against all states together) and never forgets: an alarm would not
# clear after its cause did.  So each window is filed under the class the model predicted,
# statistics cover only the newest RING windows, and a window the model's input checks
# refused (``input_ok`` false) is counted but never enters them.  The values per window are
# the channel levels first (the model's ``input_level``: RMS, or a speed channel's mean) and
# then its features: the features are scale-free by design, so a change of sensor gain shows
# only in the levels, and levels first keep them inside the block whatever is cut off.
LABEL, SCORES, FEATURES = "label", "scores", "features"
INPUT_OK, INPUT_LEVEL = "input_ok", "input_level"


def window_values(outputs: dict[str, np.ndarray], window: np.ndarray
                  ) -> tuple[int, int, bool, np.ndarray, int]:
    """(page, pages, valid, values, levels) of one window from the model's outputs.

    The page is the predicted label index, out of one page per score (at least two: an
    anomaly model's label is 0 or 1); a model without a label has one page. A model
    without ``input_level`` gets each channel's RMS, one without ``input_ok`` counts a
    window valid when its values are finite.
    """
    x = np.asarray(window, dtype=np.float64)
    if INPUT_LEVEL in outputs:
        levels = np.asarray(outputs[INPUT_LEVEL], dtype=np.float64).reshape(-1)
    else:
        levels = np.sqrt((x * x).mean(axis=-1)).reshape(-1)
    feats = np.asarray(outputs.get(FEATURES, np.zeros(0)), dtype=np.float64).reshape(-1)
    values = np.concatenate([levels, feats])
    valid = bool(np.all(np.isfinite(values)))
    if INPUT_OK in outputs:
        valid = valid and bool(np.asarray(outputs[INPUT_OK]).reshape(-1)[0])
    if LABEL not in outputs:
        return 0, 1, valid, values, len(levels)
    pages = max(2, np.asarray(outputs.get(SCORES, np.zeros(0))).reshape(-1).size)
    return int(np.asarray(outputs[LABEL]).reshape(-1)[0]), pages, valid, values, len(levels)


class ClassStats:
    """A ring of the newest :data:`RING` windows and the register block published from it
    every :data:`PUBLISH_EVERY` windows (so a master reading it in several requests gets one
    snapshot: it reads the header, the pages, and the header again)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Forget every window (a model change, RESET_STATS)."""
        with self._lock:
            self.pages = 1
            self._page = np.full(cs.RING, -1, dtype=np.int64)   # -1: invalid or empty
            self._held = np.zeros(cs.RING, dtype=bool)
            self._values: np.ndarray | None = None
            self._levels = 0
            self._next = 0
            self._added = 0
            self._seq = 0
            self._block = [0] * cs.CLASS_REGION

    def add(self, page: int, pages: int, valid: bool, values: np.ndarray, levels: int
            ) -> None:
        """File one window; ``page`` outside 0..pages-1 (an invalid label) is not scored.
        Pages beyond :data:`MAX_PAGES` are not published, values beyond what the pages fit
        into the block are cut off (levels come first)."""
        pages = max(1, min(int(pages), cs.MAX_PAGES))
        n = min(len(values), cs.capacity(pages))
        with self._lock:
            if self._values is None or self._values.shape[1] != n or \
                    self._levels != levels or self.pages != pages:
                self._values = np.zeros((cs.RING, n), dtype=np.float64)
                self._page[:] = -1
                self._held[:] = False
                self._levels, self.pages = levels, pages
            i = self._next
            ok = valid and 0 <= page < self.pages
            self._page[i] = page if ok else -1
            self._held[i] = True
            self._values[i] = values[:n] if ok else 0.0
            self._next = (i + 1) % cs.RING
            self._added += 1
            if self._added % cs.PUBLISH_EVERY == 0:
                self._publish()

    def _publish(self) -> None:
        assert self._values is not None
        n = self._values.shape[1]
        self._seq += 1
        held = int(self._held.sum())
        invalid = int((self._held & (self._page < 0)).sum())
        block = [*u32_words(self._seq), self.pages, n, self._levels, cs.RING, held, invalid]
        for k in range(self.pages):
            rows = self._values[self._page == k]
            count = len(rows)
            mean = rows.mean(axis=0) if count else np.zeros(n)
            m2 = ((rows - mean) ** 2).sum(axis=0) if count else np.zeros(n)
            block += [*u32_words(count), *f32_words(mean), *f32_words(m2)]
        self._block = block + [0] * (cs.CLASS_REGION - len(block))

    def region(self) -> list[int]:
        """The registers of IR 7000-9999 as last published."""
        with self._lock:
            return list(self._block)

    def add_window(self, outputs: dict[str, np.ndarray], window: np.ndarray) -> None:
        """File one window from the model's outputs (see :func:`window_values`)."""
        page, pages, valid, values, levels = window_values(outputs, window)
        self.add(page, pages, valid, values, levels)
