"""The tag-map editor's table of [[tag]] or [[waveform]] rows: one column per setting, a
choice list where the format has one, cells marked red where the parser finds a problem, and
a last column with what a test read got."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from app.ui.styles import ERROR_COLOUR
from app.ui.tagmap_form import Column, row_values
from app.ui.widgets.table_text import cell_text

#: Header of the column a test read fills.
READING_HEADER = "Test read"
#: Background of a cell the parser finds fault with.
PROBLEM_BRUSH = QBrush(QColor("#fde0dc"))

_Index = QModelIndex | QPersistentModelIndex


class ChoiceDelegate(QStyledItemDelegate):
    """Edits a choice column with a list of what the format accepts ('' = the default);
    a value loaded from a file that is none of them stays offered, so it is seen."""

    def __init__(self, choices: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choices = choices

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,  # noqa: N802
                     index: _Index) -> QWidget:
        combo = QComboBox(parent)
        combo.addItems(["", *self.choices])
        return combo

    def setEditorData(self, editor: QWidget, index: _Index) -> None:  # noqa: N802 - Qt API
        assert isinstance(editor, QComboBox)
        text = str(index.data() or "")
        if editor.findText(text) < 0:
            editor.addItem(text)
        editor.setCurrentText(text)

    def setModelData(self, editor: QWidget, model: Any, index: _Index) -> None:  # noqa: N802
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentText())


class TagMapTable(QTableWidget):
    """Rows of one section (``tag`` or ``waveform``) of the tag map being edited."""

    sig_edited = Signal()
    """The user changed a cell, or added or removed a row."""

    def __init__(self, section: str, columns: tuple[Column, ...],
                 parent: QWidget | None = None) -> None:
        super().__init__(0, len(columns) + 1, parent)
        self.section, self.columns = section, columns
        self.setObjectName(f"{section}_table")
        self._quiet = False
        self.setHorizontalHeaderLabels([c.header for c in columns] + [READING_HEADER])
        for i, column in enumerate(columns):
            header = self.horizontalHeaderItem(i)
            if header is not None and column.tip:
                header.setToolTip(column.tip)
            if column.kind == "choice":
                self.setItemDelegateForColumn(i, ChoiceDelegate(column.choices, self))
        self.verticalHeader().setVisible(True)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.horizontalHeader().setStretchLastSection(True)
        self.itemChanged.connect(self._changed)

    @property
    def reading_column(self) -> int:
        """Index of the test-read column."""
        return len(self.columns)

    def column_of(self, key: str) -> int:
        """Index of the column of setting ``key`` (the name column for an unknown one)."""
        for i, column in enumerate(self.columns):
            if column.key == key:
                return i
        return 0

    # ---------------------------------------------------------------- rows

    def set_rows(self, rows: list[dict[str, str]]) -> None:
        """Show ``rows`` (cell texts by setting) in place of all rows."""
        self._quiet = True
        try:
            self.setRowCount(0)
            for texts in rows:
                self._append(texts)
        finally:
            self._quiet = False
        self.resizeColumnsToContents()

    def _append(self, texts: dict[str, str]) -> int:
        row = self.rowCount()
        self.insertRow(row)
        for col, column in enumerate(self.columns):
            self.setItem(row, col, QTableWidgetItem(texts.get(column.key, "")))
        reading = QTableWidgetItem("")
        reading.setFlags(reading.flags() & ~Qt.ItemFlag.ItemIsEditable)
        self.setItem(row, self.reading_column, reading)
        return row

    def add_row(self, texts: dict[str, str] | None = None) -> int:
        """Add a row (empty, or with ``texts``) at the end and select it; returns it."""
        self._quiet = True
        try:
            row = self._append(texts or {})
        finally:
            self._quiet = False
        self.setCurrentCell(row, 0)
        self.sig_edited.emit()
        return row

    def remove_selected(self) -> None:
        """Remove the selected rows."""
        rows = sorted({index.row() for index in self.selectedIndexes()}, reverse=True)
        if not rows:
            return
        for row in rows:
            self.removeRow(row)
        self.sig_edited.emit()

    def set_text(self, row: int, key: str, text: str) -> None:
        """Put ``text`` in the cell of setting ``key`` (as typing it would)."""
        item = self.item(row, self.column_of(key))
        assert item is not None
        item.setText(text)

    def text(self, row: int, key: str) -> str:
        """The text of the cell of setting ``key`` in ``row``."""
        return cell_text(self, row, self.column_of(key))

    def values(self) -> list[dict[str, Any]]:
        """Every row as the table of its section (empty cells left out)."""
        return [row_values({c.key: cell_text(self, r, i) for i, c in enumerate(self.columns)},
                           self.columns) for r in range(self.rowCount())]

    def _changed(self, item: QTableWidgetItem) -> None:
        if not self._quiet and item.column() != self.reading_column:
            self.sig_edited.emit()

    # ---------------------------------------------------------------- marks and readings

    def mark(self, problems: list[Any]) -> None:
        """Mark the cells of ``problems`` (this section's, placed by row and setting) red,
        each with its message as tooltip; clear every other mark."""
        at: dict[tuple[int, int], list[str]] = {}
        for problem in problems:
            if problem.index is not None and problem.index < self.rowCount():
                at.setdefault((problem.index, self.column_of(problem.key)), []).append(
                    problem.message)
        self._quiet = True
        try:
            for row in range(self.rowCount()):
                for col in range(len(self.columns)):
                    item = self.item(row, col)
                    if item is None:
                        continue
                    messages = at.get((row, col))
                    item.setBackground(PROBLEM_BRUSH if messages else QBrush())
                    item.setToolTip("\n".join(messages) if messages else
                                    self.columns[col].tip)
        finally:
            self._quiet = False

    def marked(self) -> list[tuple[int, str]]:
        """(row, setting) of every cell marked red."""
        out = []
        for row in range(self.rowCount()):
            for col, column in enumerate(self.columns):
                item = self.item(row, col)
                if item is not None and item.background() == PROBLEM_BRUSH:
                    out.append((row, column.key))
        return out

    def show_readings(self, readings: list[Any]) -> None:
        """Fill the test-read column row by row: the value with its unit, or the error in
        red (the tooltip adds the detail)."""
        self._quiet = True
        try:
            for row in range(self.rowCount()):
                item = self.item(row, self.reading_column)
                if item is None:
                    continue
                reading = readings[row] if row < len(readings) else None
                item.setText("" if reading is None else reading.text)
                failed = reading is not None and reading.value is None
                item.setForeground(QBrush(QColor(ERROR_COLOUR)) if failed else QBrush())
                item.setToolTip("" if reading is None else
                                (reading.detail or reading.text))
        finally:
            self._quiet = False
        self.resizeColumnToContents(self.reading_column)

    def readings(self) -> list[str]:
        """The test-read column, row by row."""
        return [cell_text(self, r, self.reading_column) for r in range(self.rowCount())]
