"""The text of a QTableWidget, cell by cell, for copying out and for tests."""

from __future__ import annotations

from PySide6.QtWidgets import QTableWidget


def cell_text(table: QTableWidget, row: int, column: int) -> str:
    """The text shown in one cell ('' where the cell holds no item)."""
    item = table.item(row, column)
    return "" if item is None else item.text()


def table_rows(table: QTableWidget, columns: int | None = None) -> list[tuple[str, ...]]:
    """Every row as a tuple of its cells' text (the first ``columns`` cells if given)."""
    n = table.columnCount() if columns is None else columns
    return [tuple(cell_text(table, r, c) for c in range(n)) for r in range(table.rowCount())]
