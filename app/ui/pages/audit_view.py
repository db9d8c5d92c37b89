"""The Audit page: browse and filter the trail, verify it, export it for auditors."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.core.records import VerifyReport
from app.core.roles import Action
from app.services import Services
from app.services.audit import AuditFilter, dated_export_folder
from app.ui.look import icon
from app.ui.permissions import ButtonRule, apply_rules
from app.ui.styles import BAD_STYLE, GOOD_STYLE, show_styled
from app.ui.task_runner import TaskRunner
from app.ui.widgets.audit_table_model import AuditTableModel
from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.page import Page

log = logging.getLogger(__name__)

#: Rows fetched per refresh; the filter narrows what a person has to scroll through.
ROW_LIMIT = 1000

#: The widest a column gets when sized to its contents (a long object path must not push
#: the reason out of sight).
MAX_COLUMN_PX = 280


class AuditView(Page):
    """Audit trail table with filters, Verify and Export; all database work runs on the
    task runner, so the window stays responsive on a long trail."""

    sig_refreshed = Signal(int)
    """The table was reloaded; carries the number of rows shown."""

    sig_verified = Signal(object)
    """A verification finished; carries the VerifyReport (intact or not)."""

    sig_exported = Signal(object)
    """An export finished; carries the service's ExportResult."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, parent)
        self._shown_once = False
        self._sized = False

        self.user_edit = QLineEdit()
        self.user_edit.setPlaceholderText("user name")
        self.action_edit = QLineEdit()
        self.action_edit.setPlaceholderText("action starts with, e.g. user.")
        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText("text anywhere in the event")
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        for edit in (self.user_edit, self.action_edit, self.text_edit):
            edit.setClearButtonEnabled(True)
            edit.returnPressed.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)

        self.model = AuditTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.count_label = QLabel("")

        self.verify_button = QPushButton(icon("verify"), "Verify")
        self.verify_button.clicked.connect(self.verify)
        self.export_button = QPushButton(icon("export"), "Export...")
        self.export_button.clicked.connect(self.export)
        self.jobs = JobControls(runner)
        self.jobs.sig_busy_changed.connect(self._busy_changed)
        self.progress_bar = self.jobs.progress_bar
        self.cancel_button = self.jobs.cancel_button
        self.message_label = self.jobs.message_label
        self.result_label = QLabel("")
        self.result_label.setWordWrap(True)

        filters = QHBoxLayout()
        for caption, edit in (("User", self.user_edit), ("Action", self.action_edit),
                              ("Text", self.text_edit)):
            filters.addWidget(QLabel(caption))
            filters.addWidget(edit, 1)
        filters.addWidget(self.refresh_button)
        actions = QHBoxLayout()
        actions.addWidget(self.verify_button)
        actions.addWidget(self.export_button)
        actions.addWidget(self.jobs, 1)
        actions.addStretch(0)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)
        layout.addLayout(actions)
        layout.addWidget(self.result_label)
        layout.addWidget(self.message_label)
        self._busy_changed(False)

    # ---------------------------------------------------------------- refresh

    def current_filter(self) -> AuditFilter:
        """The filter the fields describe."""
        return AuditFilter(user=self.user_edit.text().strip().lower(),
                           action=self.action_edit.text().strip(),
                           text=self.text_edit.text().strip(), limit=ROW_LIMIT)

    def refresh(self) -> None:
        """Reload the table with the current filter (in the background)."""
        flt = self.current_filter()
        principal = self.principal
        show = self.services.audit.show
        self.jobs.fetch(lambda: show(principal, flt), button=self.refresh_button,
                        on_done=self._refreshed)

    def _refreshed(self, events: list) -> None:
        self.model.set_events(events)
        if events and not self._sized:
            # Once, on the first rows: afterwards the widths are the user's.
            self._sized = True
            self.table.resizeColumnsToContents()
            header = self.table.horizontalHeader()
            for column in range(header.count() - 1):
                header.resizeSection(column, min(header.sectionSize(column), MAX_COLUMN_PX))
        shown = len(events)
        more = " (newest first; narrow the filter to see older ones)" if shown >= ROW_LIMIT else ""
        self.count_label.setText(f"{shown} event{'s' if shown != 1 else ''} shown{more}")
        self.sig_refreshed.emit(shown)

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        # Load on first sight rather than at construction: the window opens without waiting
        # on the database, and pages nobody visits cost nothing.
        if not self._shown_once:
            self._shown_once = True
            self.refresh()

    # ---------------------------------------------------------------- verify

    def verify(self) -> None:
        """Verify the whole trail in the background and show the verdict."""
        principal = self.principal
        verify = self.services.audit.verify
        # Refusals and failed or cancelled jobs are audit events too: refresh after them.
        self.jobs.run(
            lambda progress, cancel: verify(principal, progress=progress, cancel=cancel),
            what="verifying the audit trail", label="verification", on_done=self._verified,
            after_error=self.refresh)

    def _verified(self, report: VerifyReport) -> None:
        self._show_result(report.summary(), GOOD_STYLE if report.ok else BAD_STYLE)
        if not report.ok:
            log.warning("audit verification failed: %s", report.summary())
        self.sig_verified.emit(report)
        # The verification is itself an audit event.
        self.refresh()

    # ---------------------------------------------------------------- export

    def choose_export_folder(self) -> Path | None:
        """Ask for the export folder; None if the user cancelled. Tests replace this."""
        folder = QFileDialog.getExistingDirectory(
            self, "Export the audit trail into a folder (a dated folder is made inside it)",
            str(Path.home()))
        return Path(folder) if folder else None

    def export(self) -> None:
        """Ask for a folder (a USB stick, say) and export the trail into a new dated folder
        inside it, with progress and Cancel."""
        if self.jobs.running:
            return
        chosen = self.choose_export_folder()
        if chosen is None:
            return
        folder = dated_export_folder(chosen, datetime.now())
        principal = self.principal
        export = self.services.audit.export
        self.jobs.run(
            lambda progress, cancel: export(principal, folder=folder, progress=progress,
                                            cancel=cancel),
            what=f"exporting to {folder}", label="export", on_done=self._exported,
            after_error=self.refresh)

    def _exported(self, result) -> None:
        self._show_result(f"exported {result.events} events to {result.folder} "
                          f"(signed checkpoint at sequence {result.checkpoint.seq})", GOOD_STYLE)
        self.sig_exported.emit(result)
        self.refresh()

    # ---------------------------------------------------------------- job state

    def cancel_job(self) -> None:
        """Ask the running verification or export to stop."""
        self.jobs.cancel()

    @property
    def job_running(self) -> bool:
        """True while a verification or export runs."""
        return self.jobs.running

    def _busy_changed(self, busy: bool) -> None:
        """Verify and Export for the roles that may use them, and not while one runs."""
        def rule() -> str | None:
            return "a verification or export is running" if busy else None

        rules: dict[QAbstractButton, ButtonRule] = {
            self.verify_button: (Action.AUDIT_VERIFY, "Verifying the audit trail",
                                 "Check the hash chain and every signed checkpoint", rule),
            self.export_button: (Action.AUDIT_EXPORT, "Exporting the audit trail",
                                 "Write the trail, signed, to a folder for auditors", rule),
        }
        apply_rules(self.principal, rules)

    def _show_result(self, text: str, style: str) -> None:
        show_styled(self.result_label, text, style)
