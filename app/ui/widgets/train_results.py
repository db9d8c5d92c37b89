"""The Train page's results: the registered version, metrics, parity verdict, evidence tabs."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.model_version import Robustness
from app.ui.styles import BAD_STYLE, GOOD_STYLE
from app.ui.train_format import metrics_text
from app.ui.widgets.robustness_table import RobustnessPanel
from app.ui.widgets.table_text import cell_text

#: Features shown in the importance chart (the largest mean drops).
TOP_FEATURES = 15

#: Title of the robustness tab (NOT ROBUST is added when the version is flagged).
ROBUSTNESS_TAB = "Robustness"


class TrainResults(QWidget):
    """A registered version's metrics, parity verdict and robustness flag above tabs with
    its confusion matrix, permutation importance and robustness evidence."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.version_label = QLabel("No training run yet")
        self.version_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.version_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.version_label.setFont(font)
        self.metrics_label = QLabel("")
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.parity_label = QLabel("")
        self.parity_label.setWordWrap(True)
        # The flag an approver will see: on top, not only inside the tab.
        self.robust_label = QLabel("")
        self.robust_label.setObjectName("robust_flag")
        self.robust_label.setWordWrap(True)
        self.confusion_table = QTableWidget(0, 0)
        self.confusion_table.setObjectName("confusion_table")
        self.confusion_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Sized to the class names: a stretched column cuts a long name to "bearin...".
        self.confusion_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.confusion_table.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.importance_plot = pg.PlotWidget()
        self.importance_plot.setMenuEnabled(False)
        self.importance_plot.setLabel("bottom", "mean score drop when shuffled")
        self.importance_plot.setMouseEnabled(x=False, y=False)
        self.importance_bars: pg.BarGraphItem | None = None
        self._importance: list[tuple[str, float]] = []
        self.result_tabs = QTabWidget()
        confusion_page = QWidget()
        confusion_layout = QVBoxLayout(confusion_page)
        confusion_layout.addWidget(QLabel("Rows: true class; columns: predicted class "
                                          "(held-out windows)"))
        confusion_layout.addWidget(self.confusion_table, 1)
        self.result_tabs.addTab(confusion_page, "Confusion matrix")
        self.importance_note = QLabel("")
        self.importance_note.setWordWrap(True)
        importance_page = QWidget()
        importance_layout = QVBoxLayout(importance_page)
        importance_layout.addWidget(self.importance_note)
        importance_layout.addWidget(self.importance_plot, 1)
        self.result_tabs.addTab(importance_page, "Permutation importance")
        self.robustness = RobustnessPanel()
        self.robustness_tab = self.result_tabs.addTab(self.robustness, ROBUSTNESS_TAB)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.version_label)
        layout.addWidget(self.metrics_label)
        layout.addWidget(self.parity_label)
        layout.addWidget(self.robust_label)
        layout.addWidget(self.result_tabs, 1)

    def show_result(self, version, validation: dict, parity: dict) -> None:
        """Show a registered version with its validation and parity reports."""
        self.version_label.setText(f"{version.ref}  ({version.kind}, {version.state})")
        self.metrics_label.setText(metrics_text(validation))
        if parity.get("deployable"):
            agreement = parity.get("label_agreement")
            extra = f", label agreement {agreement:.2%}" if agreement is not None else ""
            self.parity_label.setText(f"Parity gate: passed on {parity.get('n_windows', 0)} "
                                      f"held-out windows{extra}: deployable")
            self.parity_label.setStyleSheet(GOOD_STYLE)
        else:
            reasons = "; ".join(parity.get("reasons") or ["no reason given"])
            self.parity_label.setText(f"Parity gate: FAILED, not deployable: {reasons}")
            self.parity_label.setStyleSheet(BAD_STYLE)
        metrics = validation.get("metrics", {})
        self._show_confusion(metrics.get("classes") or [], metrics.get("confusion") or [])
        self._show_importance(validation.get("importance") or {})
        self._show_robustness(Robustness.from_report(validation.get("robustness")))

    def _show_robustness(self, rob: Robustness | None) -> None:
        self.robustness.show_robustness(rob)
        flagged = self.robustness.not_robust
        self.result_tabs.setTabText(self.robustness_tab,
                                    f"{ROBUSTNESS_TAB} (NOT ROBUST)" if flagged
                                    else ROBUSTNESS_TAB)
        if rob is None:
            self.robust_label.setText("")
        elif flagged:
            self.robust_label.setText("NOT ROBUST: approving this version needs an explicit "
                                      "acceptance; see the Robustness tab")
            self.robust_label.setStyleSheet(BAD_STYLE)
        else:
            held_out = " and every held-out condition" if rob.conditions else ""
            self.robust_label.setText(f"Robustness: every check{held_out} passed")
            self.robust_label.setStyleSheet(GOOD_STYLE)

    def confusion(self) -> list[list[int]]:
        """The confusion matrix shown (rows: truth), as numbers."""
        return [[int(cell_text(self.confusion_table, r, c))
                 for c in range(self.confusion_table.columnCount())]
                for r in range(self.confusion_table.rowCount())]

    def _show_confusion(self, classes: list[str], matrix: list[list[int]]) -> None:
        n = len(matrix)
        self.confusion_table.clear()
        self.confusion_table.setRowCount(n)
        self.confusion_table.setColumnCount(n)
        if not n:
            return
        names = [str(c) for c in classes] if len(classes) == n else [str(i) for i in range(n)]
        self.confusion_table.setHorizontalHeaderLabels(names)
        self.confusion_table.setVerticalHeaderLabels(names)
        for r, row in enumerate(matrix):
            total = sum(row) or 1
            for c, count in enumerate(row):
                item = QTableWidgetItem(str(int(count)))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = count / total
                colour = QColor(27, 94, 32) if r == c else QColor(176, 0, 32)
                colour.setAlphaF(0.15 + 0.6 * share if count else 0.0)
                item.setBackground(QBrush(colour))
                item.setToolTip(f"true {names[r]}, predicted {names[c]}: {count} "
                                f"({share:.0%} of {names[r]})")
                self.confusion_table.setItem(r, c, item)

    def importance_shown(self) -> list[tuple[str, float]]:
        """The features in the importance chart, top first, with their mean drop."""
        return list(self._importance)

    def _show_importance(self, importance: dict) -> None:
        if self.importance_bars is not None:
            self.importance_plot.removeItem(self.importance_bars)
            self.importance_bars = None
        mean = importance.get("mean") or {}
        top = sorted(((str(k), float(v)) for k, v in mean.items()
                      if isinstance(v, int | float) and math.isfinite(v)),
                     key=lambda kv: -abs(kv[1]))[:TOP_FEATURES]
        self._importance = top
        axis = self.importance_plot.getAxis("left")
        if not top:
            axis.setTicks(None)
            self.importance_note.setText("no permutation importance in the report")
            return
        y = np.arange(len(top))[::-1].astype(float)  # the largest on top
        widths = np.array([v for _, v in top])
        self.importance_bars = pg.BarGraphItem(x0=np.minimum(widths, 0.0), y=y, height=0.7,
                                               width=np.abs(widths), brush="#1565c0")
        self.importance_plot.addItem(self.importance_bars)
        axis.setTicks([[(float(y[i]), name) for i, (name, _) in enumerate(top)], []])
        self.importance_plot.setYRange(-0.6, len(top) - 0.4, padding=0.0)
        largest = float(np.max(np.abs(widths)))
        scoring = importance.get("scoring", "score")
        repeats = importance.get("n_repeats", "?")
        note = (f"Mean drop of the {scoring} on held-out windows when one feature is "
                f"shuffled ({repeats} repeats); the {len(top)} largest of {len(mean)}.")
        if largest < 1e-12:
            # Nothing to scale to: keep a readable axis and say what zero means.
            largest = 1.0
            note += (" No single feature matters on its own: the model gets the same "
                     "information from others (correlated features).")
        self.importance_plot.setXRange(min(0.0, float(widths.min())), largest, padding=0.05)
        self.importance_note.setText(note)
