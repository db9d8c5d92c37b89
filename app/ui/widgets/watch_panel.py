"""The Controllers page's live view of one controller: latest prediction, drift, plot."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.ui.styles import BAD_STYLE, NOTE_STYLE
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets.prediction_plot import PredictionPlot

#: Colour of the drift line per level.
DRIFT_STYLES = {"ok": "color: white; background-color: #2e7d32; padding: 2px 6px;",
                "warn": "color: black; background-color: #ffb300; padding: 2px 6px;",
                "alarm": "color: white; background-color: #c62828; font-weight: bold; "
                         "padding: 2px 6px;"}

#: How often a watched controller is asked for its latest prediction and drift.
WATCH_INTERVAL_MS = 1000

#: Drifting features named next to the drift level.
WORST_SHOWN = 3


class WatchPanel(QWidget):
    """Polls one controller about once a second on the task runner (one poll at a time,
    never waiting on the GUI thread) and shows its prediction, drift and a plot."""

    sig_updated = Signal(str, object)
    """A poll arrived for the watched controller; carries its endpoint and the WatchResult."""

    sig_stopped = Signal()
    """Watching stopped on its own (the runner was shut down)."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.target: str | None = None
        self._fetch: Callable[[], Any] | None = None
        self._in_flight = False
        self._last_inference: int | None = None
        self.prediction_label = QLabel("")
        self.prediction_label.setTextFormat(Qt.TextFormat.PlainText)
        self.drift_label = QLabel("")
        self.drift_label.setTextFormat(Qt.TextFormat.PlainText)
        self.drift_label.setWordWrap(True)
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(BAD_STYLE)
        self.plot = PredictionPlot()
        self.timer = QTimer(self)
        self.timer.setInterval(WATCH_INTERVAL_MS)
        self.timer.timeout.connect(self._poll)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.prediction_label, 1)
        row.addWidget(self.drift_label, 1)
        layout.addLayout(row)
        layout.addWidget(self.error_label)
        layout.addWidget(self.plot, 2)

    def start(self, target: str, fetch: Callable[[], Any]) -> None:
        """Watch ``target``: ``fetch`` (run on the worker, so it must not touch widgets)
        returns its WatchResult."""
        self.target = target
        self._fetch = fetch
        self._last_inference = None
        self.plot.clear()
        self.plot.set_title(f"latest prediction of {target}")
        self.plot.start()
        self.prediction_label.setText(f"watching {target}...")
        self.drift_label.setText("")
        self.drift_label.setStyleSheet("")
        self.error_label.setText("")
        self.timer.start()
        self._poll()

    def stop(self) -> None:
        """Stop polling; the plot keeps what it shows."""
        self.timer.stop()
        self.target = None
        # A drift banner or prediction left on screen would read as still current.
        self.drift_label.setText("")
        self.drift_label.setStyleSheet("")
        self.drift_label.setToolTip("")
        self.prediction_label.setStyleSheet("")
        if self.plot.running:
            self.plot.stop()

    def mark_lost(self) -> None:
        """The watched controller stopped answering: its last drift verdict is no longer
        current, so the banner says that instead of staying green or red."""
        self.drift_label.setText("drift: unknown - the controller does not answer")
        self.drift_label.setStyleSheet(NOTE_STYLE)
        self.drift_label.setToolTip("The last verdict was for data that is no longer "
                                    "arriving; watching goes on and shows a new one once the "
                                    "controller answers again.")

    def drift_level(self) -> str:
        """ok, warn or alarm as shown now ('' before a drift report arrived)."""
        text = self.drift_label.text()
        if not text.startswith("drift: "):
            return ""
        level = text.removeprefix("drift: ").split(" ", 1)[0]
        return level if level in DRIFT_STYLES else ""

    def _poll(self) -> None:
        target, fetch = self.target, self._fetch
        if target is None or fetch is None or self._in_flight:
            return  # one poll at a time: a slow link must not pile requests up
        self._in_flight = True
        try:
            self.runner.submit(fetch, on_done=lambda result: self._watched(target, result),
                               on_error=lambda exc: self._failed(target, exc),
                               cancellable=False, writes=False)
        except RuntimeError:  # the runner was shut down: the window is closing
            self._in_flight = False
            self.stop()
            self.sig_stopped.emit()

    def _watched(self, target: str, result: Any) -> None:
        self._in_flight = False
        if target != self.target:
            return  # stopped (or another controller watched) meanwhile
        self.error_label.setText("")
        live = result.live
        prediction = float(live.prediction)
        reason = invalid_reason(result)
        self.prediction_label.setStyleSheet(BAD_STYLE if reason else "")
        if reason:
            # The controller refused the window (a dead or saturated sensor, NaN samples):
            # its class would be a guess, so the reason is shown and nothing is plotted.
            self.prediction_label.setText(f"{result.model}: invalid input: {reason} "
                                          f"(inference {live.inference_count})")
        elif not live.inference_count or not math.isfinite(prediction):
            self.prediction_label.setText(f"{result.model}: no prediction yet")
        else:
            if live.inference_count != self._last_inference:
                self._last_inference = live.inference_count
                self.plot.add(time.monotonic(), prediction, result.label)
            self.prediction_label.setText(f"{result.model}: {result.label} "
                                          f"(inference {live.inference_count})")
        self._show_drift(result.drift)
        self.sig_updated.emit(target, result)

    def _show_drift(self, drift: Any) -> None:
        if drift is None:
            self.drift_label.setText("drift: not enough windows yet")
            self.drift_label.setStyleSheet(NOTE_STYLE)
            self.drift_label.setToolTip("")
            return
        # The level is the held one (an alarm stays red until the drift is back to ok), so
        # the values named are those still drifting, or, while an alarm clears, the worst.
        level = drift.level
        worst = drift.at_least("warn")[:WORST_SHOWN]
        if level == "alarm" and not worst:
            worst = drift.at_least("ok")[:1]
        text = f"drift: {level}"
        if worst:
            text += " - " + ", ".join(drift_item(f) for f in worst)
        self.drift_label.setText(text)
        self.drift_label.setStyleSheet(DRIFT_STYLES.get(level, NOTE_STYLE))
        self.drift_label.setToolTip(drift_tooltip(drift))

    def _failed(self, target: str, exc: BaseException) -> None:
        self._in_flight = False
        if target != self.target:
            return
        # Keep polling: a controller that was busy or had no model may answer next time.
        self.error_label.setText(f"watch: {describe_error(exc)}")


def invalid_reason(result: Any) -> str:
    """Why the controller flagged the latest window invalid, or ''. Read defensively: the
    sensor-fault fields (``WatchResult.invalid_reason``, ``Live.invalid_reason``) are being
    added to the controller protocol; a result without them is simply valid."""
    for holder in (result, getattr(result, "live", None)):
        reason = getattr(holder, "invalid_reason", None)
        if reason:
            return str(reason)
    return ""


def drift_item(f: Any) -> str:
    """One drifting value: per class, its shift in training standard deviations; pooled
    (an older package), its PSI."""
    if hasattr(f, "shift") and hasattr(f, "label"):
        return f"{f.label} {f.name} ({f.shift:+.1f} sd)"
    return f"{f.name} (PSI {f.psi:.2f})"


def drift_tooltip(drift: Any) -> str:
    """What the drift was measured on and its ten worst values."""
    lines = []
    scored = getattr(drift, "scored", None)
    if scored is not None:
        lines.append("per predicted class, newest windows: " + (", ".join(
            f"{label} {n}" for label, n in scored) or "none"))
        unscored = getattr(drift, "unscored", ())
        if unscored:
            lines.append("not scored (too few windows or no reference): " + ", ".join(
                f"{label} {n}" for label, n in unscored))
        if getattr(drift, "invalid", 0):
            lines.append(f"invalid windows left out: {drift.invalid}")
        if drift.level != getattr(drift, "raw_level", drift.level):
            lines.append(f"held at {drift.level} until the drift is back to ok "
                         f"(now {drift.raw_level})")
        lines += [f"{f.label} {f.name}: {f.level}, shift {f.shift:+.2f} sd, spread "
                  f"{f.spread:.2f}x, PSI {f.psi:.3f}, KS {f.ks:.3f}"
                  for f in drift.at_least("ok")[:10]]
    else:
        lines += [f"{f.name}: {f.level}, PSI {f.psi:.3f}, KS {f.ks:.3f}"
                  for f in drift.at_least("ok")[:10]]
    return "\n".join(lines)
