"""A time axis in the workstation's clock time (HH:MM:SS), for the live plots."""

from __future__ import annotations

import math
from datetime import datetime

import pyqtgraph as pg

#: Tick steps (seconds) the axis chooses from: each a step a clock reader counts in.
_STEPS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0,
          30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 21600.0,
          43200.0, 86400.0)

_DAY_S = 86400.0

#: Room a tick label needs (pixels), "00:00:00.000" with a margin.
LABEL_PX = 96

#: Axis title: the values are the local clock of this workstation.
CLOCK_LABEL = "clock time (local)"


class ClockAxis(pg.AxisItem):
    """Seconds since the epoch as local ``HH:MM:SS`` (milliseconds added below one-second
    ticks, dates above a day), spaced so the labels never overlap. pyqtgraph's own
    DateAxisItem shows only ``SS.mmm`` when zoomed to a few seconds, which reads as a
    duration, and a plain axis shows "time (ks)"."""

    def __init__(self, orientation: str = "bottom", **kwargs) -> None:
        super().__init__(orientation, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 - pyqtgraph API
        span = maxVal - minVal
        if not (span > 0 and size > 0 and math.isfinite(span)):
            return super().tickSpacing(minVal, maxVal, size)
        wanted = span * LABEL_PX / size
        step = next((s for s in _STEPS if s >= wanted), None)
        if step is None:  # more than a day between labels: whole days
            step = math.ceil(wanted / _DAY_S) * _DAY_S
        return [(step, 0.0)]

    def tickStrings(self, values, scale, spacing):  # noqa: N802 - pyqtgraph API
        out = []
        for value in values:
            try:
                stamp = datetime.fromtimestamp(float(value))  # local, as the wall clock
            except (OverflowError, OSError, ValueError):
                out.append("")
                continue
            if spacing >= _DAY_S:
                out.append(stamp.strftime("%Y-%m-%d"))
            elif spacing >= 1.0:
                out.append(stamp.strftime("%H:%M:%S"))
            else:
                out.append(stamp.strftime("%H:%M:%S") + f".{stamp.microsecond // 1000:03d}")
        return out
