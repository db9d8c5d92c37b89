"""The input-register image: identity, status, live results, feature tables, waveform, digests."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from app.devices.controller.events import EVENT_BASE, EVENT_REGION
from app.devices.protocol import class_stats as cs
from app.devices.protocol import registers as r
from app.devices.protocol.words import f32_words, u32_words

if TYPE_CHECKING:
    from app.devices.controller.runtime import ControllerRuntime

FEATURE_TABLES = {"features": 400, "feature_mean": 700, "feature_m2": 1000}
TABLE_REGS = 2 * r.MAX_FEATURES
WAVE_REGS = r.WAVE_HEAD_COUNT + 2 * r.WAVE_CAPACITY


def _table(values: np.ndarray, slots: int) -> list[int]:
    arr = np.zeros(slots, dtype=np.float64)
    n = min(len(values), slots)
    arr[:n] = values[:n]
    return f32_words(arr)


class RegisterImage:
    """Answers input-register reads from the runtime's current state.

    Each read is served from one consistent snapshot of its region; the identity and
    status pages end in a CRC-32 so a master can check it got one page, whole.
    """

    def __init__(self, runtime: ControllerRuntime) -> None:
        self.rt = runtime
        self._wave_key: tuple[int, int] | None = None
        self._wave: list[int] = [0] * WAVE_REGS
        builders: list[tuple[int, int, Callable[[int, int], list[int]]]] = [
            (r.IDENTITY_BASE, r.IDENTITY_COUNT, self._identity),
            (r.STATUS_BASE, r.STATUS_COUNT, self._status),
            (r.LIVE_BASE, r.LIVE_HEAD_COUNT, self._live),
            (r.WAVE_BASE, WAVE_REGS, self._waveform),
            (r.DIGEST_BASE, 2 * r.MAX_DIGESTS, self._digests),
            (EVENT_BASE, EVENT_REGION, self._events),
            (r.SECURITY_BASE, r.SECURITY_COUNT, self._security),
            (cs.CLASS_BASE, cs.CLASS_REGION, self._class_stats),
            (r.SHADOW_BASE, r.SHADOW_COUNT, self._shadow),
        ]
        for name, base in FEATURE_TABLES.items():
            builders.append((base, TABLE_REGS, self._feature_table(name)))
        self.regions = sorted(builders)

    def regions_for_server(self) -> list[tuple[int, int]]:
        """(start, count) of every defined input-register region."""
        return [(base, count) for base, count, _ in self.regions]

    def read(self, address: int, count: int) -> list[int] | None:
        """``count`` registers from ``address``, or None if the range is not one region."""
        for base, size, build in self.regions:
            if base <= address and address + count <= base + size:
                return build(address - base, count)
        return None

    @staticmethod
    def _page(base: int, size: int, values: dict[str, Any], crc: r.Field | None) -> list[int]:
        page = r.place([0] * size, base, values)
        return r.seal(page, crc, base) if crc is not None else page

    def _identity(self, start: int, count: int) -> list[int]:
        page = self._page(r.IDENTITY_BASE, r.IDENTITY_COUNT, self.rt.identity_values(),
                          r.FIELDS["identity_crc"])
        return page[start:start + count]

    def _status(self, start: int, count: int) -> list[int]:
        page = self._page(r.STATUS_BASE, r.STATUS_COUNT, self.rt.status_values(),
                          r.FIELDS["status_crc"])
        return page[start:start + count]

    def _security(self, start: int, count: int) -> list[int]:
        page = self._page(r.SECURITY_BASE, r.SECURITY_COUNT, self.rt.security_values(),
                          r.FIELDS["security_crc"])
        return page[start:start + count]

    def _live(self, start: int, count: int) -> list[int]:
        values, scores = self.rt.live_values()
        page = self._page(r.LIVE_BASE, r.LIVE_HEAD_COUNT, values, None)
        field = r.FIELDS["scores"]
        page[field.address - r.LIVE_BASE:field.end - r.LIVE_BASE] = _table(scores, r.MAX_SCORES)
        return page[start:start + count]

    def _feature_table(self, name: str) -> Callable[[int, int], list[int]]:
        def build(start: int, count: int) -> list[int]:
            return _table(self.rt.feature_table(name), r.MAX_FEATURES)[start:start + count]
        return build

    def _waveform(self, start: int, count: int) -> list[int]:
        sensor = self.rt.sensor
        if sensor is None:
            return [0] * count
        seq, block = sensor.current
        key = (id(sensor), seq)
        if key != self._wave_key:
            head = [seq & 0xFFFF, block.shape[1], block.shape[0], 0,
                    *f32_words([sensor.rate])]
            samples = f32_words(block.reshape(-1))
            wave = head + samples
            self._wave = wave + [0] * (WAVE_REGS - len(wave))
            self._wave_key = key
        return self._wave[start:start + count]

    def _events(self, start: int, count: int) -> list[int]:
        return self.rt.machine.events.region()[start:start + count]

    def _class_stats(self, start: int, count: int) -> list[int]:
        return self.rt.class_stats.region()[start:start + count]

    def _shadow(self, start: int, count: int) -> list[int]:
        return self.rt.machine.shadow.region()[start:start + count]

    def _digests(self, start: int, count: int) -> list[int]:
        first, last = start // 2, (start + count - 1) // 2
        regs: list[int] = []
        for index in range(first, last + 1):
            regs += u32_words(self.rt.machine.digest(index))
        skip = start - 2 * first
        return regs[skip:skip + count]
