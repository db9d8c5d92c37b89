"""The Data page's import report: rows per file and the validation issues, line by line."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.data_format import issue_cells, report_summary
from app.ui.widgets.table_text import cell_text

#: Validation issue table columns.
ISSUE_COLUMNS = ("file", "where", "column", "reason", "action")


class ImportReport(QWidget):
    """Rows read, accepted, rejected and flagged per file, then the issues found."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.report_label = QPlainTextEdit()
        self.report_label.setReadOnly(True)
        self.report_label.setMaximumHeight(90)
        self.issues_table = QTableWidget(0, len(ISSUE_COLUMNS))
        self.issues_table.setObjectName("issues_table")
        self.issues_table.setHorizontalHeaderLabels(list(ISSUE_COLUMNS))
        self.issues_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.issues_table.verticalHeader().setVisible(False)
        self.issues_table.horizontalHeader().setStretchLastSection(True)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Rows read, accepted, rejected and flagged per file"))
        layout.addWidget(self.report_label)
        layout.addWidget(QLabel("Issues, by line of the file (or row)"))
        layout.addWidget(self.issues_table, 1)

    def show_report(self, reports: dict[str, dict]) -> None:
        """Show validation reports (file name -> report dict)."""
        self.report_label.setPlainText("\n".join(
            report_summary(name, rep) for name, rep in reports.items()))
        rows = [(name, issue) for name, rep in reports.items() for issue in rep.get("issues", [])]
        self.issues_table.setRowCount(len(rows))
        for r, (name, issue) in enumerate(rows):
            for c, text in enumerate(issue_cells(name, issue)):
                self.issues_table.setItem(r, c, QTableWidgetItem(text))

    def report_text(self) -> str:
        """The report as plain text: the summary lines, then one line per issue."""
        lines = [self.report_label.toPlainText()]
        for r in range(self.issues_table.rowCount()):
            lines.append(" | ".join(cell_text(self.issues_table, r, c)
                                    for c in range(self.issues_table.columnCount())))
        return "\n".join(lines)
