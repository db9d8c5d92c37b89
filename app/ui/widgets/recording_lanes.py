"""A recording's channels as stacked lanes over one time axis, with a region and label bands."""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from app.core.records import DatasetInfo, LabelInfo

#: Padding above and below a lane's data range (share of the range).
LANE_PAD = 0.05

#: Width of every lane's amplitude axis, so the lanes' time axes line up.
AXIS_WIDTH = 80

#: Time-range labels drawn as shaded bands at most (the list shows them all).
MAX_BANDS = 50

LABEL_BRUSH = (255, 160, 0, 40)
REGION_BRUSH = (0, 120, 255, 50)


class RecordingLanes(pg.GraphicsLayoutWidget):
    """Each channel in its own lane over seconds since the recording's start, its amplitude
    axis in the channel's own unit; the lanes share the time axis (the mouse wheel and
    dragging zoom and pan time only) and one blue region, drawn in every lane, that a drag
    in any lane moves. Each lane downsamples (peak, so spikes survive) to the screen's width
    and clips to the visible time range, so large recordings stay fluid."""

    sig_region_moved = Signal(float, float)
    """The blue region moved; carries its start and end in seconds."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.duration_s = 0.0
        self.curves: list[pg.PlotDataItem] = []
        self.lanes: list[pg.PlotItem] = []
        self.regions: list[pg.LinearRegionItem] = []
        self._bands: list[tuple[pg.PlotItem, pg.LinearRegionItem]] = []
        self._y_ranges: list[tuple[float, float]] = []
        self._syncing = False
        self.ci.layout.setSpacing(2)
        # The top lane exists from the start: it holds the blue region a drag moves.
        self.plot = self._add_lane()
        self.region = self.regions[0]

    # ---------------------------------------------------------------- lanes

    def _add_lane(self) -> pg.PlotItem:
        """A lane: its own amplitude axis, time shared with the top lane, wheel on time."""
        lane = self.addPlot(row=len(self.lanes), col=0)
        lane.setDownsampling(auto=True, mode="peak")
        lane.setClipToView(True)
        lane.showGrid(x=True, y=True, alpha=0.3)
        lane.setMenuEnabled(False)
        lane.hideButtons()  # the "A" button would auto-range; "Fit" above says what it does
        # Time only: the wheel over a lane must not squash it into vertical bars.
        lane.setMouseEnabled(x=True, y=False)
        lane.enableAutoRange(x=False, y=False)
        axis = lane.getAxis("left")
        axis.setWidth(AXIS_WIDTH)
        # "m3/h" must not become "mm3/h", nor a 2000 s recording "ks".
        axis.enableAutoSIPrefix(False)
        bottom = lane.getAxis("bottom")
        bottom.enableAutoSIPrefix(False)
        if self.lanes:
            lane.setXLink(self.lanes[0])
        region = pg.LinearRegionItem(values=(0.0, 1.0), brush=REGION_BRUSH)
        region.setZValue(10)
        region.setVisible(False)
        lane.addItem(region, ignoreBounds=True)
        # A drag's last step emits only sigRegionChangeFinished.
        region.sigRegionChanged.connect(self._region_moved)
        region.sigRegionChangeFinished.connect(self._region_moved)
        self.lanes.append(lane)
        self.regions.append(region)
        return lane

    def _set_lane_count(self, n: int) -> None:
        while len(self.lanes) < n:
            self._add_lane()
        while len(self.lanes) > max(n, 1):
            lane = self.lanes.pop()
            region = self.regions.pop()
            region.sigRegionChanged.disconnect(self._region_moved)
            region.sigRegionChangeFinished.disconnect(self._region_moved)
            self.removeItem(lane)
        for i, lane in enumerate(self.lanes):
            last = i == len(self.lanes) - 1
            if last:
                lane.setLabel("bottom", "time", units="s")  # (this shows the axis)
            lane.showAxis("bottom", last)  # one time axis, under the bottom lane

    # ---------------------------------------------------------------- drawing

    def draw(self, info: DatasetInfo, data: np.ndarray) -> None:
        """Draw ``data`` (channels, samples) of a recording of ``info``, one lane per channel,
        each in the channel's unit; fit it and put the region on its middle fifth."""
        data = np.atleast_2d(np.asarray(data))
        rate = info.sample_rate or 1.0
        n = data.shape[1]
        self.duration_s = n / rate
        x = np.arange(n, dtype=np.float64) / rate  # one axis, shared by every curve
        self._set_lane_count(len(data))
        self._y_ranges = []
        for i, (row, lane) in enumerate(zip(data, self.lanes, strict=True)):
            lo, hi, all_finite = _data_range(row)
            channel = info.channels[i] if i < len(info.channels) else None
            name = channel.name if channel else f"channel {i + 1}"
            unit = channel.unit if channel and channel.unit else ""
            lane.setLabel("left", name, units=unit or "unit not recorded")
            # Added empty, then filled: the lane's downsampling and clipping apply at once.
            curve = lane.plot(pen=pg.intColor(i, hues=max(len(data), 3)))
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
            curve.setData(x, row, skipFiniteCheck=all_finite)
            suffix = f" {unit}" if unit else ""
            curve.setToolTip(f"{name}: {lo:g} to {hi:g}{suffix}")
            self.curves.append(curve)
            self._y_ranges.append(_padded(lo, hi))
        end = max(self.duration_s, 1.0 / rate)
        for lane in self.lanes:
            lane.setLimits(xMin=0.0, xMax=end)
            # Again once labelled and laid out: a width set on a lane not yet shown is lost,
            # and lanes of unequal widths would skew the shared time axis.
            lane.getAxis("left").setWidth(AXIS_WIDTH)
        # Lay the lanes out now, not at the next event: the time axis links by geometry.
        self.ci.layout.activate()
        for lane in self.lanes:
            lane.layout.activate()
        for region in self.regions:
            region.setBounds((0.0, end))
        self.fit()
        self.set_region(0.4 * end, 0.6 * end)
        for region in self.regions:
            region.setVisible(True)

    def clear_recording(self) -> None:
        """Remove the curves and label bands and hide the region (the lanes stay)."""
        for curve, lane in zip(self.curves, self.lanes, strict=False):
            lane.removeItem(curve)
        self.curves.clear()
        self._remove_bands()
        for region in self.regions:
            region.setVisible(False)

    def fit(self) -> None:
        """The whole recording in time, each lane its full amplitude range."""
        if not self.curves:
            return
        # An explicit x range (not auto-range) lets clip-to-view drop what is off screen.
        self.lanes[0].setXRange(0.0, max(self.duration_s, 1e-9), padding=0.0)
        for lane, (lo, hi) in zip(self.lanes, self._y_ranges, strict=False):
            lane.setYRange(lo, hi, padding=0.0)

    def time_range(self) -> tuple[float, float]:
        """The time span shown, in seconds."""
        lo, hi = self.lanes[0].viewRange()[0]
        return float(lo), float(hi)

    def amplitude_ranges(self) -> list[tuple[float, float]]:
        """Each lane's amplitude axis span, in its channel's unit, top lane first."""
        return [(float(lane.viewRange()[1][0]), float(lane.viewRange()[1][1]))
                for lane in self.lanes[:len(self.curves)]]

    def axis_labels(self) -> list[str]:
        """Each lane's amplitude axis title, e.g. ``pressure (bar)``, top lane first."""
        return [_plain(lane.getAxis("left").labelString())
                for lane in self.lanes[:len(self.curves)]]

    def displayed_point_count(self) -> int:
        """Points the curves display now, after downsampling and clipping."""
        total = 0
        for curve in self.curves:
            x, _ = curve.getData()
            total += 0 if x is None else len(x)
        return total

    # ---------------------------------------------------------------- bands and region

    def show_bands(self, labels: list[LabelInfo]) -> None:
        """Shade the time range of each of ``labels`` that has one (MAX_BANDS at most), in
        every lane drawn, in place of the bands shown before."""
        self._remove_bands()
        spans = [lb for lb in labels if lb.t_start is not None][:MAX_BANDS]
        for lb in spans:
            for lane in self.lanes[:max(len(self.curves), 1)]:
                band = pg.LinearRegionItem(values=(lb.t_start, lb.t_end),
                                           movable=False, brush=LABEL_BRUSH)
                band.setToolTip(lb.label)
                lane.addItem(band, ignoreBounds=True)
                self._bands.append((lane, band))

    def _remove_bands(self) -> None:
        for lane, band in self._bands:
            lane.removeItem(band)
        self._bands.clear()

    def region_range(self) -> tuple[float, float]:
        """Start and end of the blue region in seconds."""
        lo, hi = self.region.getRegion()
        return float(lo), float(hi)

    def set_region(self, t_start: float, t_end: float) -> None:
        """Move the blue region (as dragging it does)."""
        self.region.setRegion((t_start, t_end))

    def _region_moved(self, moved: object = None) -> None:
        # One region per lane, kept together: a drag in any lane moves them all.
        if self._syncing:
            return
        source = moved if isinstance(moved, pg.LinearRegionItem) else self.region
        span = source.getRegion()
        self._syncing = True
        try:
            for region in self.regions:
                if region is not source:
                    region.setRegion(span)
        finally:
            self._syncing = False
        self.sig_region_moved.emit(*self.region_range())


def _data_range(row: np.ndarray) -> tuple[float, float, bool]:
    """The finite minimum and maximum of ``row`` (NaN, NaN if none) and whether every
    sample is finite."""
    row = np.asarray(row)
    lo, hi = float(np.min(row)), float(np.max(row))  # NaN if any sample is NaN
    if np.isfinite(lo) and np.isfinite(hi):
        return lo, hi, True
    finite = row[np.isfinite(row)]
    if not len(finite):
        return float("nan"), float("nan"), False
    return float(finite.min()), float(finite.max()), False


def _padded(lo: float, hi: float) -> tuple[float, float]:
    """An amplitude span around [lo, hi]; a flat or empty lane still gets a span."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return -1.0, 1.0
    # A flat line gets a span around its level (a dead sensor's zero: one unit).
    pad = (hi - lo) * LANE_PAD if hi > lo else abs(lo) * LANE_PAD or 1.0
    return lo - pad, hi + pad


def _plain(html: str) -> str:
    """An axis title without pyqtgraph's markup."""
    return re.sub(r"<[^>]*>", "", html).replace("&nbsp;", " ").strip()
