"""One window's explanation: the features that moved the prediction most as signed bars, beside
the window's amplitude spectrum, with the sentence that says what was explained."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.services.explanations import WindowExplanation

#: Features shown as bars (the rest are summed in the sentence).
TOP = 12
UP, DOWN = "#2e7d32", "#c62828"  # a contribution towards the explained output, or away


class ExplanationView(QWidget):
    """Bars: the ``TOP`` largest contributions, towards (green) or against (red) the explained
    class; spectrum: the window's amplitude spectrum per channel, in its unit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary_label = QLabel("Pick a window and explain it.")
        self.summary_label.setWordWrap(True)
        self.bars_widget = pg.PlotWidget()
        self.bars_item = self.bars_widget.getPlotItem()
        self.bars_item.setLabel("bottom", "contribution")
        self.bars_item.showGrid(x=True, alpha=0.3)
        self.spectrum_widget = pg.PlotWidget()
        self.spectrum_item = self.spectrum_widget.getPlotItem()
        self.spectrum_item.setLabel("bottom", "frequency", "Hz")
        self.spectrum_item.setLabel("left", "amplitude")
        self.spectrum_item.showGrid(x=True, y=True, alpha=0.3)
        plots = QHBoxLayout()
        plots.addWidget(self.bars_widget, 1)
        plots.addWidget(self.spectrum_widget, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addLayout(plots, 1)
        self.shown: list[tuple[str, float]] = []

    def show_result(self, result: WindowExplanation) -> None:
        """Draw ``result``; an invalid window shows its reason and its spectrum, no bars."""
        self.bars_item.clear()
        self._spectrum(result)
        e = result.explanation
        if e is None:
            self.shown = []
            self.summary_label.setText(f"{result.ref}: invalid input: {result.invalid}. "
                                       "There is no prediction to explain.")
            return
        self.shown = e.top(TOP)
        names = [name for name, _ in self.shown][::-1]  # largest on top
        values = np.array([value for _, value in self.shown][::-1])
        brushes = [pg.mkBrush(UP if v >= 0 else DOWN) for v in values]
        self.bars_item.addItem(pg.BarGraphItem(x0=np.minimum(values, 0), y=np.arange(len(values)),
                                               height=0.7, width=np.abs(values),
                                               brushes=brushes))
        self.bars_item.getAxis("left").setTicks([list(enumerate(names))])
        rest = float(e.contributions.sum()) - float(sum(v for _, v in self.shown))
        what = f"predicts {result.label}" if result.label else "output"
        self.summary_label.setText(
            f"{result.ref} {what}: {e.output_kind} {e.output:.3f} = base {e.base:.3f} "
            f"+ the contributions of {len(e.feature_names)} features (the {len(self.shown)} "
            f"largest drawn; the others add {rest:+.3f}).")

    def _spectrum(self, result: WindowExplanation) -> None:
        self.spectrum_item.clear()
        w = np.nan_to_num(np.asarray(result.window, dtype=np.float64))
        n = w.shape[-1]
        freqs = np.fft.rfftfreq(n, d=1.0 / result.sample_rate)
        colours = ("#1565c0", "#ef6c00", "#6a1b9a", "#00838f")
        for k, channel in enumerate(result.channels):
            amp = 2.0 * np.abs(np.fft.rfft(w[k] * np.hanning(n))) / n
            self.spectrum_item.plot(freqs, amp, pen=pg.mkPen(colours[k % len(colours)]),
                                    name=channel)
