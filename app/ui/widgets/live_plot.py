"""Live plot of an acquisition: worker threads fill ring buffers, a GUI timer redraws them."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.ui.plot_breaks import gap_count, with_breaks
from app.ui.ring_buffer import TAGS, LiveFeed
from app.ui.widgets.clock_axis import CLOCK_LABEL, ClockAxis
from app.ui.widgets.timed_redraw import TimedRedraw

log = logging.getLogger(__name__)

#: Redraw period: about 30 frames a second, whatever the sample rate.
REDRAW_MS = 33

#: Seconds of the newest data shown while following the acquisition.
SPAN_S = 10.0

WAVE_PREFIX = "wave:"


class LivePlot(TimedRedraw):
    """Waveforms above, polled tags below, both over clock time (the acquisition's wall
    clock); a missed buffer or an outage is drawn as a break, never as a line across it.

    Feed it through :attr:`feed` (``feed.on_block`` / ``feed.on_row`` are the acquisition's
    callbacks, safe on any thread); :meth:`start` runs the redraw timer, :meth:`stop` ends
    it after a last redraw. Curves downsample (peak) and clip to the view, so a redraw
    costs about the same for ten seconds of 12 kHz data as for one.
    """

    def __init__(self, parent: QWidget | None = None, span_s: float = SPAN_S) -> None:
        super().__init__(REDRAW_MS, parent)
        self.feed = LiveFeed()
        self.span_s = span_s
        self._tag_names: list[str] = []
        self._curves: dict[str, pg.PlotDataItem] = {}
        self._drawn: dict[str, int] = {}
        self.redraws = 0

        self.graphics = pg.GraphicsLayoutWidget()
        # Clock time, not "time (ks)": an operator compares it with the plant's clock.
        self.wave_plot = self.graphics.addPlot(row=0, col=0, title="Waveforms",
                                               axisItems={"bottom": ClockAxis()})
        self.tag_plot = self.graphics.addPlot(row=1, col=0, title="Tags",
                                              axisItems={"bottom": ClockAxis()})
        self.tag_plot.setXLink(self.wave_plot)
        for plot in (self.wave_plot, self.tag_plot):
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.showGrid(x=True, y=True, alpha=0.3)
            plot.addLegend(offset=(5, 5))
            plot.setLabel("bottom", CLOCK_LABEL)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)

    # ---------------------------------------------------------------- control

    def set_tag_names(self, names: Sequence[str]) -> None:
        """Names of the polled tags, in the order of ``on_row``'s values (legend text)."""
        self._tag_names = list(names)

    def clear(self) -> None:
        """Forget the samples and curves of the previous acquisition."""
        self.feed.clear()
        for name, curve in self._curves.items():
            plot = self.wave_plot if name.startswith(WAVE_PREFIX) else self.tag_plot
            plot.removeItem(curve)
        self._curves.clear()
        self._drawn.clear()

    # ---------------------------------------------------------------- inspection

    def curve_names(self) -> list[str]:
        """Curves drawn so far: ``wave:NAME`` for waveforms, the tag names for tags."""
        return list(self._curves)

    def point_count(self, name: str) -> int:
        """Points the curve ``name`` displays now (after downsampling and clipping)."""
        curve = self._curves.get(name)
        if curve is None:
            return 0
        x, _ = curve.getData()
        return 0 if x is None else len(x)

    def break_count(self, name: str) -> int:
        """Gaps the curve ``name`` is broken at (missing samples, outages)."""
        curve = self._curves.get(name)
        if curve is None:
            return 0
        _, y = curve.getOriginalDataset()
        return 0 if y is None else gap_count(y)

    def time_range(self) -> tuple[float, float]:
        """The clock time span shown (seconds since the epoch)."""
        lo, hi = self.wave_plot.viewRange()[0]
        return float(lo), float(hi)

    # ---------------------------------------------------------------- drawing

    def redraw(self) -> None:
        """Copy what arrived since the last redraw into the curves (GUI thread only)."""
        t0 = self.feed.t0
        if t0 is None:
            return
        latest = None
        for name, buf in self.feed.streams().items():
            written = buf.written
            if self._drawn.get(name) == written:
                continue
            t, values = buf.snapshot()
            self._drawn[name] = written
            if not len(t):
                continue
            latest = float(t[-1]) if latest is None else max(latest, float(t[-1]))
            if name == TAGS:
                for j in range(values.shape[1]):
                    x, y = with_breaks(t, values[:, j])
                    self._curve(self._tag_name(j), self.tag_plot).setData(x, y)
            else:
                x, y = with_breaks(t, values[:, 0])
                self._curve(name, self.wave_plot).setData(x, y)
        if latest is not None:
            # An explicit range (not auto-range) on x is what lets clip-to-view work.
            self.wave_plot.setXRange(max(t0, latest - self.span_s), max(latest, t0 + 1e-3),
                                     padding=0.0)
            self.redraws += 1

    def _tag_name(self, j: int) -> str:
        return self._tag_names[j] if j < len(self._tag_names) else f"tag {j + 1}"

    def _curve(self, name: str, plot: pg.PlotItem) -> pg.PlotDataItem:
        curve = self._curves.get(name)
        if curve is None:
            label = name.removeprefix(WAVE_PREFIX)
            # connect="finite": the NaN put into each gap breaks the line there.
            curve = plot.plot(pen=pg.intColor(len(self._curves), hues=9), name=label,
                              connect="finite")
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            self._curves[name] = curve
        return curve
