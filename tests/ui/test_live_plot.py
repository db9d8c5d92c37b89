"""Live plot: ring buffers filled from other threads, redrawn by the GUI timer."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from app.ui.ring_buffer import TAGS, RingBuffer
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
