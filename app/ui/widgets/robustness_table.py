"""The robustness evidence as tables: perturbation checks, held-out conditions, the verdict."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.model_version import Robustness
from app.ui.styles import BAD_STYLE, ERROR_COLOUR, GOOD_STYLE, NOTE_STYLE, show_styled
from app.ui.train_format import (
    CONDITION_COLUMNS,
    ROBUSTNESS_COLUMNS,
    condition_row,
    conditions_note,
    robustness_row,
    robustness_verdict,
)
from app.ui.widgets.table_text import table_rows

#: Columns holding numbers (right-aligned so digits line up).
_NUMERIC = (1, 2, 3)


def readable_table(columns: Sequence[str], name: str = "") -> QTableWidget:
    """A read-only table whose columns take the width of their content (nothing cut)."""
    table = QTableWidget(0, len(columns))
    if name:
        table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(columns))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def fill_table(table: QTableWidget, rows: Sequence[Sequence[str]],
               tooltips: Sequence[str] = (), numeric: Sequence[int] = ()) -> None:
    """Replace the rows of ``table``; a row whose last cell is FAILED is drawn in red."""
    table.setRowCount(0)
    for r, cells in enumerate(rows):
        table.insertRow(r)
        failed = bool(cells) and cells[-1] == "FAILED"
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            if c in numeric:
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            if failed:
                item.setForeground(QBrush(QColor(ERROR_COLOUR)))
            if r < len(tooltips) and tooltips[r]:
                item.setToolTip(tooltips[r])
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


class RobustnessPanel(QWidget):
    """The verdict line (NOT ROBUST in red), the robustness table (case, windows, score,
    invalid share, expected, verdict) and the leave-one-condition-out table."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.robustness: Robustness | None = None
        self.verdict_label = QLabel("")
        self.verdict_label.setObjectName("robustness_verdict")
        self.verdict_label.setWordWrap(True)
        self.verdict_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.checks_note = QLabel("")
        self.checks_note.setWordWrap(True)
        self.checks_table = readable_table(ROBUSTNESS_COLUMNS, "robustness_table")
        self.conditions_label = QLabel("")
        self.conditions_label.setWordWrap(True)
        self.conditions_table = readable_table(CONDITION_COLUMNS, "conditions_table")
        layout = QVBoxLayout(self)
        layout.addWidget(self.verdict_label)
        layout.addWidget(self.checks_note)
        layout.addWidget(self.checks_table, 3)
        layout.addWidget(self.conditions_label)
        layout.addWidget(self.conditions_table, 1)
        self.show_robustness(None)

    @property
    def not_robust(self) -> bool:
        """True when the evidence shown flags the version NOT ROBUST."""
        return self.robustness is not None and not self.robustness.robust

    def show_robustness(self, rob: Robustness | None) -> None:
        """Show ``rob`` (None: not measured, the tables stay empty)."""
        self.robustness = rob
        style = NOTE_STYLE if rob is None else GOOD_STYLE if rob.robust else BAD_STYLE
        show_styled(self.verdict_label, robustness_verdict(rob), style)
        if rob is None:
            self.checks_note.setText("")
        else:
            self.checks_note.setText(
                f"The exported model (onnxruntime, as the controller runs it) on the held-out "
                f"windows, changed as each row says; scored by {rob.metric}.")
        checks = rob.checks if rob is not None else ()
        fill_table(self.checks_table, [robustness_row(c) for c in checks],
                   tooltips=[c.reasons for c in checks], numeric=_NUMERIC)
        self.conditions_label.setText(conditions_note(rob))
        conditions = rob.conditions if rob is not None else ()
        fill_table(self.conditions_table, [condition_row(c) for c in conditions],
                   numeric=_NUMERIC)
        self.conditions_table.setVisible(bool(conditions))

    def check_rows(self) -> list[tuple[str, ...]]:
        """The robustness table as text rows (ROBUSTNESS_COLUMNS order)."""
        return table_rows(self.checks_table)

    def condition_rows(self) -> list[tuple[str, ...]]:
        """The held-out conditions table as text rows (CONDITION_COLUMNS order)."""
        return table_rows(self.conditions_table)
