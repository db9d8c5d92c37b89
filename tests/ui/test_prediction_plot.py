"""Prediction plot: samples only fill the ring buffer; the timer redraws, labels name classes."""

from __future__ import annotations

import math
import time

import pytest

from app.ui.widgets.clock_axis import ClockAxis
from app.ui.widgets.prediction_plot import PredictionPlot


def test_adding_predictions_draws_nothing_until_the_timer_redraws(qtbot):
    plot = PredictionPlot(capacity=8)
    qtbot.addWidget(plot)
    for i in range(20):
        plot.add(100.0 + i, float(i % 2), "healthy" if i % 2 else "outer_race")
    assert plot.point_count() == 0 and plot.redraws == 0, "no redraw per sample"

    plot.show()
    plot.start()
    qtbot.waitUntil(lambda: plot.redraws >= 1, timeout=2000)
    assert plot.point_count() == 8, "the ring buffer keeps the newest predictions"
    assert plot.values() == [float(i % 2) for i in range(12, 20)]
    assert plot.class_labels() == {0.0: "outer_race", 1.0: "healthy"}

    redraws = plot.redraws
    plot.redraw()
    assert plot.redraws == redraws, "nothing new, nothing redrawn"
    plot.stop()
    assert not plot.running and not plot.timer.isActive()


def test_clear_forgets_everything_and_regression_values_get_no_labels(qtbot):
    plot = PredictionPlot()
    qtbot.addWidget(plot)
    plot.add(5.0, 0.25, "0.25")
    plot.add(6.0, 0.5, "0.5")
    plot.redraw()
    assert plot.values() == [0.25, 0.5]
    assert plot.class_labels() == {}
    plot.clear()
    assert plot.point_count() == 0
    plot.add(7.0, math.pi)
    plot.redraw()
    assert plot.values() == [math.pi]


def test_a_pause_in_the_predictions_is_a_break_on_a_clock_axis(qtbot):
    plot = PredictionPlot()
    qtbot.addWidget(plot)
    now_mono, now_wall = time.monotonic(), time.time()
    for i in range(5):
        plot.add(now_mono + i, 1.0, "healthy")
    for i in range(3):  # the controller answered again 20 s later
        plot.add(now_mono + 25 + i, 0.0, "outer_race")
    plot.redraw()
    assert plot.values() == [1.0] * 5 + [0.0] * 3 and plot.point_count() == 8
    assert plot.break_count() == 1, "no diagonal across the outage"
    times = plot.times()
    assert times[0] == pytest.approx(now_wall, abs=2.0), "clock time, not since watching"
    assert times[-1] - times[0] == pytest.approx(27.0, abs=1e-6)
    axis = plot.plot_item.getAxis("bottom")
    assert isinstance(axis, ClockAxis) and "ks" not in axis.labelString()
