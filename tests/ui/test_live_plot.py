"""Live plot: ring buffers filled from other threads, redrawn by the GUI timer."""

from __future__ import annotations

import threading
from datetime import datetime

import numpy as np
import pytest

from app.ui.plot_breaks import with_breaks
from app.ui.ring_buffer import TAGS, RingBuffer
from app.ui.widgets.clock_axis import LABEL_PX, ClockAxis
from app.ui.widgets.live_plot import LivePlot


def test_ring_buffer_keeps_the_newest_rows_in_time_order():
    buf = RingBuffer(5)
    assert len(buf) == 0 and buf.snapshot()[0].size == 0
    buf.append([0.0, 1.0, 2.0], [10, 11, 12])
    t, v = buf.snapshot()
    assert t.tolist() == [0, 1, 2] and v[:, 0].tolist() == [10, 11, 12]
    buf.append(np.arange(3, 7.0), np.arange(13, 17.0))  # wraps around
    t, v = buf.snapshot()
    assert t.tolist() == [2, 3, 4, 5, 6] and v[:, 0].tolist() == [12, 13, 14, 15, 16]
    buf.append(np.arange(100, 112.0), np.arange(12.0))  # more than the capacity at once
    t, _ = buf.snapshot()
    assert t.tolist() == [107, 108, 109, 110, 111] and buf.written == 19
    wide = RingBuffer(4, width=3)
    wide.append([1.0], [[1, 2, 3]])
    assert wide.snapshot()[1].tolist() == [[1, 2, 3]]
    with pytest.raises(ValueError):
        wide.append([1.0], [1, 2])


def test_feeding_from_worker_threads_is_safe_and_the_timer_draws_it(qtbot):
    plot = LivePlot()
    qtbot.addWidget(plot)
    plot.resize(800, 500)
    plot.show()
    qtbot.waitExposed(plot)
    plot.set_tag_names(["pressure", "speed"])
    feed = plot.feed
    blocks, rows, block_len = 200, 300, 256
    t_start = 1_700_000_000.0
    errors: list[BaseException] = []

    def waveform():
        try:
            for k in range(blocks):
                t = t_start + (k * block_len + np.arange(block_len)) / 12_000.0
                feed.on_block("vibration", t, np.sin(t * 50.0))
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    def tags():
        try:
            for k in range(rows):
                feed.on_row(t_start + k * 0.01, [4.2 + 0.01 * k, 1797.0])
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    plot.start()
    threads = [threading.Thread(target=waveform, name="feed-wave"),
               threading.Thread(target=tags, name="feed-tags")]
    for th in threads:
        th.start()
    # The GUI keeps redrawing while the threads append.
    qtbot.waitUntil(lambda: not any(th.is_alive() for th in threads), timeout=4000)
    for th in threads:
        th.join()
    assert not errors
    streams = feed.streams()
    assert streams["wave:vibration"].written == blocks * block_len
    assert streams[TAGS].written == rows and streams[TAGS].width == 2
    t, v = streams["wave:vibration"].snapshot()
    assert np.all(np.diff(t) > 0), "the rows stay in time order"
    qtbot.waitUntil(lambda: plot.point_count("wave:vibration") > 0
                    and plot._drawn.get("wave:vibration") == blocks * block_len,
                    timeout=2000)
    assert plot.redraws >= 1
    assert set(plot.curve_names()) == {"wave:vibration", "pressure", "speed"}
    assert plot.point_count("pressure") > 0
    # Peak downsampling to the screen's width: far fewer points than samples.
    assert plot.point_count("wave:vibration") < len(t)
    plot.stop()
    assert not plot.timer.isActive()


def test_a_bad_block_is_dropped_without_raising_into_the_worker(qtbot, caplog):
    plot = LivePlot()
    qtbot.addWidget(plot)
    plot.feed.on_block("vibration", np.arange(3.0), np.arange(4.0))  # shapes disagree
    plot.feed.on_row(1.0, ["not a number"])
    plot.feed.on_block("vibration", np.arange(3.0), np.arange(3.0))
    assert plot.feed.streams()["wave:vibration"].written == 3
    assert "live view could not take" in caplog.text
    plot.clear()
    assert plot.feed.streams() == {} and plot.curve_names() == []


def test_gaps_are_breaks_and_the_axis_is_clock_time(qtbot):
    plot = LivePlot()
    qtbot.addWidget(plot)
    plot.resize(800, 500)
    plot.show()
    plot.set_tag_names(["pressure"])
    t0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
    rate, block = 12_000.0, 512
    # Waveform: blocks 0-9, then a missed buffer (block 10), then blocks 11-19.
    for k in [*range(10), *range(11, 20)]:
        t = t0 + (k * block + np.arange(block)) / rate
        plot.feed.on_block("vibration", t, np.sin(t))
    # Tags every 0.1 s, then a 6 s outage, then again.
    for k in range(30):
        plot.feed.on_row(t0 + 0.1 * k, [1.0 + k])
    for k in range(30):
        plot.feed.on_row(t0 + 9.0 + 0.1 * k, [2.0 + k])
    plot.redraw()
    assert plot.break_count("wave:vibration") == 1, "the missed buffer is a break"
    assert plot.break_count("pressure") == 1, "the outage is a break, not a diagonal"
    assert plot.point_count("pressure") > 0

    for p in (plot.wave_plot, plot.tag_plot):
        axis = p.getAxis("bottom")
        assert isinstance(axis, ClockAxis)
        assert "ks" not in axis.labelString() and "clock time" in axis.labelString()
    lo, hi = plot.time_range()
    assert t0 <= lo < hi and hi == pytest.approx(t0 + 11.9, abs=0.01), "epoch seconds"
    # Ticks read as clock time (hours, minutes, seconds), not as seconds since the start.
    axis = plot.wave_plot.getAxis("bottom")
    width = axis.geometry().width()
    [(spacing, values)] = axis.tickValues(lo, hi, width)
    labels = axis.tickStrings(values, 1.0, spacing)
    assert labels == [datetime.fromtimestamp(v).strftime("%H:%M:%S") for v in values]
    assert 2 <= len(labels) <= width / LABEL_PX, "as many as fit without overlapping"

    # Contiguous data: no break anywhere.
    plot.clear()
    for k in range(5):
        t = t0 + (k * block + np.arange(block)) / rate
        plot.feed.on_block("vibration", t, np.cos(t))
    plot.redraw()
    assert plot.break_count("wave:vibration") == 0


def test_with_breaks_puts_a_nan_inside_each_gap():
    t = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0, 30.0])
    x, y = with_breaks(t, t * 2)
    assert np.isnan(y).sum() == 2
    assert np.all(np.diff(x) > 0), "still increasing (clip-to-view searches it)"
    assert x[np.isnan(y)].tolist() == [6.5, 21.0]
    assert with_breaks(t[:4], t[:4])[0].tolist() == t[:4].tolist()
    # A pause shorter than the floor is not a gap, however regular the rest.
    x, y = with_breaks(np.array([0.0, 0.1, 0.2, 0.3, 1.0]), np.ones(5), min_gap_s=5.0)
    assert not np.isnan(y).any()
