"""The Controllers page's table: one row per scanned endpoint, errors in red."""

from __future__ import annotations

from typing import Any

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from app.ui.controller_rows import COLUMNS, LOST_STATE, ControllerRow, row_of_status
from app.ui.styles import ERROR_COLOUR
from app.ui.widgets.table_text import table_rows


class ControllerTable(QTableWidget):
    """Endpoint, hardware id, state, active model and last error of each scanned endpoint;
    keeps the rows it shows by endpoint."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.rows: dict[str, ControllerRow] = {}
        self.setObjectName("controller_table")
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        self.horizontalHeader().setStretchLastSection(True)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def fill(self, rows: dict[str, ControllerRow], selected: str | None) -> None:
        """Show ``rows``; select ``selected`` again, or else the first endpoint found."""
        self.rows = dict(rows)
        self.blockSignals(True)
        try:
            self.setRowCount(0)
            for row in self.rows.values():
                index = self.rowCount()
                self.insertRow(index)
                self._set_cells(index, row)
        finally:
            self.blockSignals(False)
        targets = list(self.rows)
        if selected in self.rows:
            self.selectRow(targets.index(selected))
        else:
            found = [i for i, row in enumerate(self.rows.values()) if row.found]
            if found:
                self.selectRow(found[0])

    def replace(self, row: ControllerRow) -> bool:
        """Show ``row`` in place of its endpoint's; False if unchanged or not listed."""
        old = self.rows.get(row.endpoint)
        if old is None or row == old:
            return False
        self.rows[row.endpoint] = row
        self._set_cells(list(self.rows).index(row.endpoint), row)
        return True

    def show_status(self, target: str, hardware_id: str | None, status: Any) -> bool:
        """Show a freshly read status in ``target``'s row (its hardware id kept unless
        ``hardware_id`` names one); False if unchanged or not listed."""
        old = self.rows.get(target)
        if old is None:
            return False
        return self.replace(row_of_status(target, hardware_id or old.hardware_id, status))

    def text_rows(self) -> list[tuple[str, ...]]:
        """The table as text rows: endpoint, hardware id, state, active model, last error."""
        return table_rows(self)

    def select(self, target: str) -> bool:
        """Select ``target``'s row; False if it is not in the table."""
        if target not in self.rows:
            return False
        self.selectRow(list(self.rows).index(target))
        return True

    def current_target(self) -> str | None:
        """Endpoint of the selected row, or None."""
        index = self.currentRow()
        if index < 0 or index >= self.rowCount():
            return None
        item = self.item(index, 0)
        return item.text() if item is not None else None

    def selected_found(self) -> str | None:
        """Endpoint of the selected row if a controller answered there, else None."""
        target = self.current_target()
        row = self.rows.get(target) if target is not None else None
        return target if row is not None and row.found else None

    def _set_cells(self, index: int, row: ControllerRow) -> None:
        for col, text in enumerate(row.cells()):
            item = QTableWidgetItem(text)
            if col == 3 and row.model_detail:
                item.setToolTip(row.model_detail)
            elif col == 4 and text:
                item.setToolTip(text)
                item.setForeground(QBrush(QColor(ERROR_COLOUR)))
            elif col == 2 and row.state in ("error", "unreachable", LOST_STATE):
                item.setForeground(QBrush(QColor(ERROR_COLOUR)))
            self.setItem(index, col, item)
