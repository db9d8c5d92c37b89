"""Side by side: the fields in which two model versions differ."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.services import Services
from app.ui.report_rows import flat_diff
from app.ui.styles import ERROR_STYLE
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets.table_text import table_rows

#: Characters of a value shown in a cell; the tooltip has all of it.
CELL_CHARS = 80


class CompareDialog(QDialog):
    """Pick another version; the table lists every field that differs as (this, other),
    nested fields (recipe, feature spec, lineage) opened to the ones that differ."""

    sig_compared = Signal(object)
    """A comparison was shown; carries the service's {field: (a, b)} dict."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 ref: str, others: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.principal = principal
        self.ref = ref
        self._asked = 0
        self.setWindowTitle(f"Compare {ref}")

        self.other_combo = QComboBox()
        self.other_combo.addItems(others)
        self.other_combo.setToolTip("The version to compare with")
        self.table = QTableWidget(0, 3)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.note_label = QLabel("")
        self.note_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(QLabel(f"Compare {ref} with"))
        top.addWidget(self.other_combo, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.note_label)
        layout.addWidget(buttons)
        self.resize(760, 460)

        self.other_combo.currentTextChanged.connect(self.compare)
        if others:
            self.compare(self.other_combo.currentText())
        else:
            self.note_label.setText("there is no other version to compare with")

    def compare(self, other: str) -> None:
        """Compare with ``other`` in the background and fill the table."""
        if not other:
            return
        self.other_combo.setCurrentText(other)
        self._asked += 1
        asked = self._asked
        compare = self.services.registry.compare
        principal, ref = self.principal, self.ref
        self.note_label.setStyleSheet("")
        self.note_label.setText(f"comparing with {other}...")
        self.runner.submit(lambda: compare(principal, a=ref, b=other),
                           on_done=lambda diff: self._show(asked, other, diff),
                           on_error=lambda exc: self._failed(asked, exc), cancellable=False,
                           writes=False)

    def rows(self) -> list[tuple[str, str, str]]:
        """The table as (field, this version, other version) text."""
        return [(a, b, c) for a, b, c in table_rows(self.table, 3)]

    def _show(self, asked: int, other: str, diff: dict) -> None:
        if asked != self._asked:
            return  # the user picked another version meanwhile
        self.table.setRowCount(0)
        self.table.setHorizontalHeaderLabels(["field", self.ref, other])
        rows = flat_diff(diff)
        for key, a, b in rows:
            row = self.table.rowCount()
            self.table.insertRow(row)
            for col, value in enumerate((key, a, b)):
                item = QTableWidgetItem(value if len(value) <= CELL_CHARS
                                        else value[:CELL_CHARS - 3] + "...")
                item.setToolTip(value)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.note_label.setText(f"{len(rows)} field{'s' if len(rows) != 1 else ''} differ"
                                if rows else "no differences beyond the version number")
        self.sig_compared.emit(diff)

    def _failed(self, asked: int, exc: BaseException) -> None:
        if asked != self._asked:
            return
        self.table.setRowCount(0)
        self.note_label.setStyleSheet(ERROR_STYLE)
        self.note_label.setText(describe_error(exc))
