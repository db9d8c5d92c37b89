"""The explanation view draws the largest contributions of a real explanation, and says why
there is none for invalid input."""

from __future__ import annotations

import numpy as np

from app.ml import Recipe
from app.ui.widgets.explanation_view import TOP, ExplanationView
from tests.services.vibration_kit import WINDOW, with_bad_windows


def test_the_bars_are_the_largest_contributions_and_invalid_input_is_said(qtbot, workspace):
    sv, eng = workspace.services, workspace.engineer
    ds = with_bad_windows(sv, eng)
    v = sv.training.train(eng, dataset=ds.dataset_id, line="pump-7",
                          recipe=Recipe(params={"n_estimators": 15}), window=WINDOW,
                          hop=WINDOW).version
    view = ExplanationView()
    qtbot.addWidget(view)
    good = sv.explanations.explain_recording(eng, ref=v.ref, dataset=ds.dataset_id,
                                             recording="1", start=2 * WINDOW)
    view.show_result(good)
    assert good.explanation is not None
    assert view.shown == good.explanation.top(TOP)
    assert len(view.shown) == min(TOP, len(good.explanation.feature_names))
    text = view.summary_label.text()
    assert "predicts bearing_fault" in text and f"{good.explanation.output:.3f}" in text
    bars = [i for i in view.bars_item.items if type(i).__name__ == "BarGraphItem"]
    assert len(bars) == 1
    widths = np.asarray(bars[0].opts["width"])
    assert np.allclose(sorted(widths), sorted(abs(v) for _, v in view.shown))
    assert len(view.spectrum_item.listDataItems()) == 1  # one channel, one spectrum

    dead = sv.explanations.explain_recording(eng, ref=v.ref, dataset=ds.dataset_id,
                                             recording="healthy-bad")
    view.show_result(dead)
    assert view.shown == []
    assert "invalid input: flat line" in view.summary_label.text()
    assert not [i for i in view.bars_item.items if type(i).__name__ == "BarGraphItem"]
