"""The Models page's detail panel: a version's lineage, reports, signatures and audit trail."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QLabel,
    QPlainTextEdit,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.ui.model_details import (
    REPORTS,
    VersionDetails,
    display_state,
    lineage_rows,
    lineage_text,
    report_rows,
    state_sentence,
)
from app.ui.task_runner import TaskRunner
from app.ui.time_format import format_time
from app.ui.widgets.audit_table_model import AuditTableModel
from app.ui.widgets.robustness_table import fill_table, readable_table
from app.ui.widgets.table_text import table_rows

#: Columns of the lineage and report tables.
FIELD_COLUMNS = ("field", "value")


class TableOrText(QWidget):
    """A (field, value) table, readable at a glance, with the same content as text one
    tick away (to copy it out, or to read a report exactly as stored)."""

    def __init__(self, text_view: QPlainTextEdit, name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text_view = text_view
        self.table = readable_table(FIELD_COLUMNS, name)
        self.table.setWordWrap(False)
        self.as_text = QCheckBox("Show as text")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(text_view)
        self.as_text.toggled.connect(lambda on: self.stack.setCurrentIndex(1 if on else 0))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.as_text)

    def show_rows(self, rows: list[tuple[str, str]], text: str) -> None:
        """Fill the table with ``rows`` and the text view with ``text``."""
        fill_table(self.table, rows, tooltips=[value for _, value in rows])
        self.text_view.setPlainText(text)

    def clear(self) -> None:
        """Show nothing."""
        self.table.setRowCount(0)
        self.text_view.clear()

    def rows(self) -> list[tuple[str, ...]]:
        """The table as (field, value) text rows."""
        return table_rows(self.table)

#: Signature table columns.
SIGNATURE_COLUMNS = ("meaning", "user", "time", "reason")

#: Tab titles of the detail panel, after "Lineage".
REPORT_TABS = {"validation_report.json": "Validation report",
               "parity_report.json": "Parity report", "model_card.md": "Model card"}


class VersionPanel(QWidget):
    """Title and state of one version above tabs with its lineage, reports, signatures and
    audit trail. :meth:`load` fetches a version on the task runner; only the answer to the
    latest request is shown."""

    sig_loaded = Signal(object)
    """The panel shows a version; carries its VersionDetails."""

    sig_failed = Signal(object)
    """The latest load failed; carries the exception."""

    def __init__(self, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self._request = 0
        self.title_label = QLabel("Select a model version")
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        title_font = self.title_label.font()
        title_font.setPointSizeF(title_font.pointSizeF() * 1.3)
        title_font.setBold(True)
        self.title_label.setFont(title_font)
        self.state_label = QLabel("")
        self.state_label.setWordWrap(True)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.TypeWriter)
        self.lineage_view = QPlainTextEdit()
        self.lineage_view.setReadOnly(True)
        self.lineage_view.setFont(mono)
        self.lineage_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.report_views: dict[str, QPlainTextEdit | QTextBrowser] = {}
        for name in REPORTS:
            view: QPlainTextEdit | QTextBrowser
            if name.endswith(".md"):
                view = QTextBrowser()
                view.setOpenExternalLinks(False)
            else:
                view = QPlainTextEdit()
                view.setReadOnly(True)
                view.setFont(mono)
            self.report_views[name] = view
        self.signature_table = QTableWidget(0, len(SIGNATURE_COLUMNS))
        self.signature_table.setHorizontalHeaderLabels(list(SIGNATURE_COLUMNS))
        self.signature_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.signature_table.verticalHeader().setVisible(False)
        self.signature_table.horizontalHeader().setStretchLastSection(True)
        self.history_model = AuditTableModel(self)
        self.history_table = QTableView()
        self.history_table.setModel(self.history_model)
        self.history_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.history_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.history_table.verticalHeader().setVisible(False)
        self.history_table.horizontalHeader().setStretchLastSection(True)
        # Lineage and the JSON reports as tables (the text stays one tick away).
        self.lineage_page = TableOrText(self.lineage_view, "lineage_table")
        self.report_pages: dict[str, TableOrText] = {}
        self.tabs = QTabWidget()
        self.tabs.addTab(self.lineage_page, "Lineage")
        for name in REPORTS:
            view = self.report_views[name]
            page: QWidget = view
            if isinstance(view, QPlainTextEdit):
                self.report_pages[name] = TableOrText(view, name.removesuffix(".json"))
                page = self.report_pages[name]
            self.tabs.addTab(page, REPORT_TABS.get(name, name))
        self.tabs.addTab(self.signature_table, "Signatures")
        self.tabs.addTab(self.history_table, "Audit trail")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title_label)
        layout.addWidget(self.state_label)
        layout.addWidget(self.tabs, 1)

    def load(self, ref: str, fetch: Callable[[], VersionDetails]) -> None:
        """Show ``ref`` as loading and run ``fetch`` (which must not touch widgets) on the
        runner; its details are shown when it ends, unless another load or a clear came
        meanwhile."""
        self._request += 1
        request = self._request
        self.title_label.setText(ref)
        self.state_label.setText("loading...")
        self.runner.submit(fetch, on_done=lambda d: self._loaded(request, d),
                           on_error=lambda exc: self._failed(request, exc), cancellable=False,
                           writes=False)

    def _loaded(self, request: int, details: VersionDetails) -> None:
        if request != self._request:
            return  # another version was selected meanwhile
        self.show_details(details)
        self.sig_loaded.emit(details)

    def _failed(self, request: int, exc: BaseException) -> None:
        if request == self._request:
            self.sig_failed.emit(exc)

    def show_details(self, details: VersionDetails) -> None:
        """Fill every tab from ``details``."""
        info = details.info
        self.title_label.setText(f"{info.ref}  ({info.kind}, {display_state(info)})")
        self.state_label.setText(state_sentence(info))
        self.lineage_page.show_rows(lineage_rows(info), lineage_text(info))
        for name, view in self.report_views.items():
            text = details.reports.get(name, "")
            if isinstance(view, QTextBrowser):
                view.setMarkdown(text)
            elif name in self.report_pages:
                self.report_pages[name].show_rows(report_rows(text), text)
            else:
                view.setPlainText(text)
        self.signature_table.setRowCount(0)
        for sig in info.signatures:
            row = self.signature_table.rowCount()
            self.signature_table.insertRow(row)
            for col, text in enumerate((sig.meaning, sig.username, format_time(sig.signed_at),
                                        sig.reason)):
                item = QTableWidgetItem(text)
                item.setToolTip(f"key {sig.key_id}\nsigned hash {sig.record_hash}")
                self.signature_table.setItem(row, col, item)
        self.signature_table.resizeColumnsToContents()
        self.history_model.set_events(list(details.history))
        self.history_table.resizeColumnsToContents()

    def clear(self) -> None:
        """Show no version (a load still in flight is for something else now)."""
        self._request += 1
        self.title_label.setText("Select a model version")
        self.state_label.setText("")
        self.lineage_page.clear()
        for name, view in self.report_views.items():
            if name in self.report_pages:
                self.report_pages[name].clear()
            else:
                view.clear()
        self.signature_table.setRowCount(0)
        self.history_model.set_events([])

    def signature_rows(self) -> list[tuple[str, ...]]:
        """The signatures table as text rows (meaning, user, time, reason)."""
        return table_rows(self.signature_table)
