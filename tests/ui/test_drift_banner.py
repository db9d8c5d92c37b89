"""The watch panel's drift banner follows the per-class drift of the watched controller: green
on a machine in its trained state, red when the sensor gain doubles, held red while the drift
ebbs, and green again once the condition has cleared (13.2)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from app.devices.flash.class_stats import ClassPage, ClassStats
from app.ml.drift_class import DriftAlarm
from app.ml.refstats import class_reference
from app.services.controller_drift import assess
from app.ui.widgets.watch_panel import DRIFT_STYLES, WatchPanel

TARGET = "tcp:127.0.0.1:1"
RNG = np.random.default_rng(3)
CLASSES = ["healthy", "worn"]


def _training():
    """Training windows of two states: a scale-free feature that tells them apart, and the
    channel level (RMS), which the classifier ignores but drift watches."""
    feats = np.concatenate([RNG.normal(2.0, 0.2, 400), RNG.normal(4.0, 0.3, 400)])[:, None]
    levels = np.concatenate([RNG.normal(1.0, 0.05, 400), RNG.normal(1.5, 0.08, 400)])[:, None]
    groups = np.array(["healthy"] * 400 + ["worn"] * 400, dtype=object)
    refs = class_reference(feats, levels, groups, ("acc.crest",), ("acc",))
    return {"task": "classification", "monitored": ["acc.level"],
            "class_reference": {k: [r.__dict__ for r in v] for k, v in refs.items()},
            "reference": []}


def _snapshot(gain: float, worn_share: float = 0.0, n: int = 128) -> ClassStats:
    """What the controller publishes for a healthy machine at ``gain``; values are the
    level first, then the feature (the controller's order)."""
    lv = RNG.normal(1.0, 0.05, n) * gain
    crest = RNG.normal(2.0, 0.2, n)
    page = ClassPage(0, n, np.array([lv.mean(), crest.mean()]),
                     np.array([((lv - lv.mean()) ** 2).sum(), ((crest - crest.mean()) ** 2).sum()]))
    empty = ClassPage(1, 0, np.zeros(2), np.zeros(2))
    return ClassStats(seq=1, ring=n, held=n, invalid=0, levels=1, pages=(page, empty))


def test_banner_is_green_red_held_and_green_again_when_the_condition_clears(qtbot, runner):
    report, schema = _training(), {"classes": CLASSES}
    alarm = DriftAlarm()
    # The ring of the newest windows as the gain doubles and then returns: mixes of both.
    script = [_snapshot(1.0), _snapshot(2.0), _snapshot(1.06), _snapshot(1.0)]
    shown: list[tuple[str, str]] = []

    def fetch():
        # On the worker, as the watch service runs: the watch's own drift code.
        drift = assess(report, schema, None, script.pop(0), alarm)
        live = SimpleNamespace(inference_count=100 + len(script), prediction=0.0)
        return SimpleNamespace(model="pump-7:v1", label="healthy", live=live, drift=drift)

    panel = WatchPanel(runner)
    qtbot.addWidget(panel)
    panel.sig_updated.connect(
        lambda _t, _r: shown.append((panel.drift_level(), panel.drift_label.styleSheet())))
    panel.start(TARGET, fetch)
    panel.timer.stop()  # the test polls; no waiting on the one-second timer
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=30_000)
    for k in range(2, 5):
        panel._poll()
        qtbot.waitUntil(lambda k=k: len(shown) == k, timeout=30_000)

    assert [level for level, _ in shown] == ["ok", "alarm", "alarm", "ok"]
    assert [style for _, style in shown] == [DRIFT_STYLES[lv] for lv, _ in shown]
    panel.stop()
    assert panel.drift_label.text() == ""


def test_the_banner_names_the_class_and_the_shift(qtbot, runner):
    report, schema = _training(), {"classes": CLASSES}
    drift = assess(report, schema, None, _snapshot(2.0), DriftAlarm())
    panel = WatchPanel(runner)
    qtbot.addWidget(panel)
    panel.target = TARGET
    live = SimpleNamespace(inference_count=7, prediction=0.0)
    panel._watched(TARGET, SimpleNamespace(model="pump-7:v1", label="healthy", live=live,
                                           drift=drift))
    text = panel.drift_label.text()
    assert text.startswith("drift: alarm - healthy acc.level (+"), text
    assert "acc.crest" not in text, "a scale-free feature does not move with the gain"
    assert "per predicted class, newest windows: healthy 128" in panel.drift_label.toolTip()
