"""Plot of a watched controller's latest prediction over time: a ring buffer a timer redraws."""

from __future__ import annotations

import logging
import math
import time

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.ui.plot_breaks import gap_count, with_breaks
from app.ui.ring_buffer import RingBuffer
from app.ui.widgets.clock_axis import CLOCK_LABEL, ClockAxis
from app.ui.widgets.timed_redraw import TimedRedraw

log = logging.getLogger(__name__)

#: Redraw period: 10 frames a second is plenty for a value polled about once a second.
REDRAW_MS = 100

#: Predictions kept (over an hour at one poll a second).
CAPACITY = 4096

#: Seconds of the newest predictions shown.
SPAN_S = 120.0

#: A pause between predictions longer than this is drawn as a break (a lost controller, a
#: stopped watch), even when the polls before it came faster.
MIN_GAP_S = 5.0


class PredictionPlot(TimedRedraw):
    """Latest prediction of the watched model against clock time; a pause in the
    predictions (the controller lost, no inference) is a break in the line, not a diagonal.

    :meth:`add` only appends to a ring buffer; a timer copies what arrived into the curve at
    most every :data:`REDRAW_MS`, so however often predictions arrive the plot costs the same.
    A classifier's class indices are labelled with their names on the value axis.
    """

    def __init__(self, parent: QWidget | None = None, span_s: float = SPAN_S,
                 capacity: int = CAPACITY) -> None:
        super().__init__(REDRAW_MS, parent)
        self.span_s = span_s
        self.buffer = RingBuffer(capacity, 1)
        self.redraws = 0
        self._t0: float | None = None
        # Monotonic time in, clock time on the axis: the offset between the two clocks is
        # taken once, so a wall-clock jump does not bend the curve.
        self._to_wall = time.time() - time.monotonic()
        self._drawn = 0
        self._labels: dict[float, str] = {}
        self._labels_drawn = 0

        self.graphics = pg.PlotWidget(axisItems={"bottom": ClockAxis()})
        self.plot_item = self.graphics.getPlotItem()
        self.plot_item.showGrid(x=True, y=True, alpha=0.3)
        self.plot_item.setLabel("bottom", CLOCK_LABEL)
        self.plot_item.setLabel("left", "prediction")
        self.curve = self.plot_item.plot(pen=pg.mkPen("#1565c0", width=2), symbol="o",
                                         symbolSize=5, symbolBrush="#1565c0",
                                         connect="finite")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)


    # ---------------------------------------------------------------- feeding

    def add(self, t: float, value: float, label: str = "") -> None:
        """Append one prediction taken at monotonic time ``t``; ``label`` names a class index
        (shown on the value axis when it differs from the number)."""
        if self._t0 is None:
            self._t0 = t
        self.buffer.append([t + self._to_wall], [value])
        if label and math.isfinite(value) and label != str(value):
            self._labels.setdefault(float(value), label)

    def set_title(self, text: str) -> None:
        """The line above the plot (which controller and model is watched)."""
        self.plot_item.setTitle(text)

    def clear(self) -> None:
        """Forget every prediction (before watching another controller)."""
        self.buffer.clear()
        self._t0 = None
        self._to_wall = time.time() - time.monotonic()
        self._drawn = 0
        self._labels.clear()
        self._labels_drawn = 0
        self.curve.setData([], [])
        self.plot_item.getAxis("left").setTicks(None)

    # ---------------------------------------------------------------- inspection

    def point_count(self) -> int:
        """Predictions the curve shows now (not counting the breaks between them)."""
        return len(self.values())

    def class_labels(self) -> dict[float, str]:
        """Class names by prediction value, as the value axis labels them."""
        return dict(self._labels)

    def values(self) -> list[float]:
        """The predictions the curve shows, oldest first (not the breaks between them)."""
        _, y = self.curve.getData()
        return [] if y is None else [float(v) for v in y if math.isfinite(v)]

    def break_count(self) -> int:
        """Pauses the curve is broken at."""
        _, y = self.curve.getOriginalDataset()
        return 0 if y is None else gap_count(y)

    def times(self) -> list[float]:
        """Clock times (seconds since the epoch) of the predictions shown, oldest first."""
        x, y = self.curve.getData()
        if x is None or y is None:
            return []
        return [float(t) for t, v in zip(x, y, strict=True) if math.isfinite(v)]

    # ---------------------------------------------------------------- drawing

    def redraw(self) -> None:
        """Copy what arrived since the last redraw into the curve (GUI thread only)."""
        written = self.buffer.written
        if written == self._drawn or self._t0 is None:
            return
        self._drawn = written
        t, values = self.buffer.snapshot()
        if not len(t):
            return
        x, y = with_breaks(t, values[:, 0], min_gap_s=MIN_GAP_S)
        self.curve.setData(x, y)
        first, latest = float(t[0]), float(t[-1])
        self.plot_item.setXRange(max(first, latest - self.span_s), max(latest, first + 1.0),
                                 padding=0.02)
        if len(self._labels) != self._labels_drawn:
            self._labels_drawn = len(self._labels)
            ticks = [(v, f"{name} ({v:g})") for v, name in sorted(self._labels.items())]
            self.plot_item.getAxis("left").setTicks([ticks, []])
        self.redraws += 1
