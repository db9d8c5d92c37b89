"""Plot of a watched controller's latest prediction over time: a ring buffer a timer redraws."""

from __future__ import annotations

import logging
import math

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.ui.ring_buffer import RingBuffer
from app.ui.widgets.timed_redraw import TimedRedraw

log = logging.getLogger(__name__)

#: Redraw period: 10 frames a second is plenty for a value polled about once a second.
REDRAW_MS = 100

#: Predictions kept (over an hour at one poll a second).
CAPACITY = 4096

#: Seconds of the newest predictions shown.
SPAN_S = 120.0


class PredictionPlot(TimedRedraw):
    """Latest prediction of the watched model against seconds since watching began.

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
        self._drawn = 0
        self._labels: dict[float, str] = {}
        self._labels_drawn = 0

        self.graphics = pg.PlotWidget()
        self.plot_item = self.graphics.getPlotItem()
        self.plot_item.showGrid(x=True, y=True, alpha=0.3)
        self.plot_item.setLabel("bottom", "time", "s")
        self.plot_item.setLabel("left", "prediction")
        self.curve = self.plot_item.plot(pen=pg.mkPen("#1565c0", width=2), symbol="o",
                                         symbolSize=5, symbolBrush="#1565c0")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)


    # ---------------------------------------------------------------- feeding

    def add(self, t: float, value: float, label: str = "") -> None:
        """Append one prediction taken at monotonic time ``t``; ``label`` names a class index
        (shown on the value axis when it differs from the number)."""
        if self._t0 is None:
            self._t0 = t
        self.buffer.append([t], [value])
        if label and math.isfinite(value) and label != str(value):
            self._labels.setdefault(float(value), label)

    def set_title(self, text: str) -> None:
        """The line above the plot (which controller and model is watched)."""
        self.plot_item.setTitle(text)

    def clear(self) -> None:
        """Forget every prediction (before watching another controller)."""
        self.buffer.clear()
        self._t0 = None
        self._drawn = 0
        self._labels.clear()
        self._labels_drawn = 0
        self.curve.setData([], [])
        self.plot_item.getAxis("left").setTicks(None)

    # ---------------------------------------------------------------- inspection

    def point_count(self) -> int:
        """Predictions the curve shows now."""
        x, _ = self.curve.getData()
        return 0 if x is None else len(x)

    def class_labels(self) -> dict[float, str]:
        """Class names by prediction value, as the value axis labels them."""
        return dict(self._labels)

    def values(self) -> list[float]:
        """The predictions the curve shows, oldest first."""
        _, y = self.curve.getData()
        return [] if y is None else [float(v) for v in y]

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
        x = t - self._t0
        self.curve.setData(x, values[:, 0])
        latest = float(x[-1])
        self.plot_item.setXRange(max(0.0, latest - self.span_s), max(latest, 1.0), padding=0.02)
        if len(self._labels) != self._labels_drawn:
            self._labels_drawn = len(self._labels)
            ticks = [(v, f"{name} ({v:g})") for v, name in sorted(self._labels.items())]
            self.plot_item.getAxis("left").setTicks([ticks, []])
        self.redraws += 1
