"""The Models page: model lines and versions, their evidence, four-eyes release and USB transfer."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import Cancelled
from app.core.principal import Principal
from app.core.records import ModelLineInfo, ModelVersionInfo
from app.core.roles import Action
from app.services import Services
from app.ui.alias_dialog import AliasDialog
from app.ui.approval_dialog import ApprovalDialog
from app.ui.audit_table_model import AuditTableModel, format_time
from app.ui.compare_dialog import CompareDialog
from app.ui.model_details import (
    REPORTS,
    VersionDetails,
    display_state,
    lineage_text,
    load_details,
    load_lines,
    state_sentence,
)
from app.ui.permissions import may, refusal_text
from app.ui.propose_dialog import ProposeDialog
from app.ui.task_runner import TaskHandle, TaskRunner, describe_error

log = logging.getLogger(__name__)

GOOD_STYLE = "color: #1b5e20; font-weight: bold;"
BAD_STYLE = "color: #b00020; font-weight: bold;"
NOTE_STYLE = "color: #555555;"

#: Colour of the state column per displayed state.
STATE_COLOURS = {"approved": "#1b5e20", "proposed": "#0d47a1", "rejected": "#b00020",
                 "retired": "#757575", "draft": "#8d6e63"}

#: Tree columns.
TREE_COLUMNS = ("model / version", "state", "aliases")

#: Signature table columns.
SIGNATURE_COLUMNS = ("meaning", "user", "time", "reason")

#: Tab titles of the detail panel, after "Lineage".
REPORT_TABS = {"validation_report.json": "Validation report",
               "parity_report.json": "Parity report", "model_card.md": "Model card"}

REF_ROLE = Qt.ItemDataRole.UserRole

PACKAGE_FILTER = "PlantML packages (*.plantml);;All files (*)"


class ModelsView(QWidget):
    """Model lines and versions on the left; the selected version's lineage, reports,
    signatures and audit trail on the right; release, alias, compare and USB buttons below.

    Every service call runs on the task runner; buttons a role may not use are greyed out
    with a tooltip saying why (the services check again).
    """

    sig_refreshed = Signal(int)
    """The tree was reloaded; carries the number of versions listed."""

    sig_details_loaded = Signal(object)
    """The detail panel shows a version; carries its VersionDetails."""

    sig_exported = Signal(object)
    """An export to a drive finished and verified; carries the service's ExportResult."""

    sig_imported = Signal(object)
    """A package was imported; carries the ModelVersionInfo it registered."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.principal = principal
        self.details: VersionDetails | None = None
        self.dialog: QWidget | None = None
        self._lines: dict[str, ModelLineInfo] = {}
        self._versions: dict[str, ModelVersionInfo] = {}
        self._wanted_ref: str | None = None
        self._detail_request = 0
        self._job: TaskHandle | None = None
        self._shown_once = False

        # ------------------------------------------------------------ left: the tree
        self.tree = QTreeWidget()
        self.tree.setObjectName("model_tree")
        self.tree.setColumnCount(len(TREE_COLUMNS))
        self.tree.setHeaderLabels(list(TREE_COLUMNS))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self._refresh_clicked)
        self.count_label = QLabel("")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.tree, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.refresh_button)
        left_layout.addLayout(bottom)

        # ------------------------------------------------------------ right: the details
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
        self.tabs = QTabWidget()
        self.tabs.addTab(self.lineage_view, "Lineage")
        for name in REPORTS:
            self.tabs.addTab(self.report_views[name], REPORT_TABS.get(name, name))
        self.tabs.addTab(self.signature_table, "Signatures")
        self.tabs.addTab(self.history_table, "Audit trail")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.title_label)
        right_layout.addWidget(self.state_label)
        right_layout.addWidget(self.tabs, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)

        # ------------------------------------------------------------ below: actions
        self.propose_button = QPushButton("Propose...")
        self.propose_button.clicked.connect(self.propose)
        self.approve_button = QPushButton("Approve/Reject...")
        self.approve_button.clicked.connect(self.approve)
        self.compare_button = QPushButton("Compare with...")
        self.compare_button.clicked.connect(self.compare)
        self.alias_button = QPushButton("Set alias...")
        self.alias_button.clicked.connect(self.set_alias)
        self.export_button = QPushButton("Export to drive...")
        self.export_button.clicked.connect(self.export_to_drive)
        self.import_button = QPushButton("Import from drive...")
        self.import_button.clicked.connect(self.import_from_drive)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setVisible(False)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_job)
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        actions = QHBoxLayout()
        for button in self.action_buttons():
            actions.addWidget(button)
        actions.addStretch(1)
        transfer = QHBoxLayout()
        transfer.addWidget(self.progress_bar, 1)
        transfer.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(actions)
        layout.addLayout(transfer)
        layout.addWidget(self.message_label)
        self._update_buttons()

    # ---------------------------------------------------------------- listing

    def action_buttons(self) -> list[QPushButton]:
        """The action buttons, left to right."""
        return [self.propose_button, self.approve_button, self.compare_button,
                self.alias_button, self.export_button, self.import_button]

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        # Load on first sight, as the Audit page does: nobody waits for a page not visited.
        if not self._shown_once:
            self._shown_once = True
            self.refresh()

    def refresh(self, select: str | None = None) -> None:
        """Reload lines and versions in the background; then select ``select`` (or keep
        the current selection) and reload its details."""
        self._wanted_ref = select or self.current_ref()
        if not may(self.principal, Action.MODEL_READ):
            # Do not even ask: the refusal would only add noise to the audit trail.
            self.count_label.setText("")
            self._show_message(refusal_text(self.principal, Action.MODEL_READ,
                                            "Viewing models"), NOTE_STYLE)
            self.refresh_button.setEnabled(False)
            return
        services, principal = self.services, self.principal
        self.refresh_button.setEnabled(False)
        self.runner.submit(lambda: load_lines(services, principal), on_done=self._listed,
                           on_error=self._list_failed, cancellable=False)

    def _refresh_clicked(self, *_args: object) -> None:
        self.refresh()

    def current_ref(self) -> str | None:
        """``line:vN`` of the selected version, or None."""
        item = self.tree.currentItem()
        ref = item.data(0, REF_ROLE) if item is not None else None
        return str(ref) if ref else None

    def version_refs(self) -> list[str]:
        """Every version listed, in tree order."""
        refs = []
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            refs.extend(str(top.child(j).data(0, REF_ROLE)) for j in range(top.childCount()))
        return refs

    def version_row(self, ref: str) -> tuple[str, str, str]:
        """What the tree shows for ``ref``: (label, state, aliases)."""
        item = self._item_for(ref)
        if item is None:
            raise KeyError(ref)
        return item.text(0), item.text(1), item.text(2)

    def select(self, ref: str) -> bool:
        """Select the version ``ref`` (its details then load); False if it is not listed."""
        item = self._item_for(ref)
        if item is None:
            return False
        self.tree.setCurrentItem(item)
        return True

    def _item_for(self, ref: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            for j in range(top.childCount()):
                if top.child(j).data(0, REF_ROLE) == ref:
                    return top.child(j)
        return None

    def _listed(self, lines: list[tuple[ModelLineInfo, list[ModelVersionInfo]]]) -> None:
        self.refresh_button.setEnabled(True)
        wanted = self._wanted_ref
        self._lines = {line.name: line for line, _ in lines}
        self._versions = {v.ref: v for _, versions in lines for v in versions}
        self.tree.blockSignals(True)
        try:
            self.tree.clear()
            for line, versions in lines:
                aliases = ", ".join(f"{a}=v{n}" for a, n in sorted(line.aliases.items()))
                top = QTreeWidgetItem([line.name, f"{line.kind}, {line.versions} versions",
                                       aliases])
                top.setToolTip(0, f"release counter {line.release_counter}")
                self.tree.addTopLevelItem(top)
                for info in versions:
                    top.addChild(self._version_item(info))
                top.setExpanded(True)
        finally:
            self.tree.blockSignals(False)
        count = len(self._versions)
        self.count_label.setText(f"{len(lines)} model line{'s' if len(lines) != 1 else ''}, "
                                 f"{count} version{'s' if count != 1 else ''}"
                                 if lines else "no models yet: train one first")
        self.sig_refreshed.emit(count)
        if wanted and wanted in self._versions:
            self.select(wanted)  # emits currentItemChanged -> details load
            # Same item as before the reload: Qt sees a new item, so this always reloads.
        elif self._versions:
            self.select(next(iter(self.version_refs())))
        else:
            self._clear_details()
        self._update_buttons()

    @staticmethod
    def _version_item(info: ModelVersionInfo) -> QTreeWidgetItem:
        state = display_state(info)
        item = QTreeWidgetItem([f"v{info.version}", state, ", ".join(info.aliases)])
        item.setData(0, REF_ROLE, info.ref)
        item.setToolTip(0, f"{info.ref}: created {format_time(info.created_at)} by "
                           f"{info.created_by}")
        item.setToolTip(1, state_sentence(info))
        colour = STATE_COLOURS.get(state)
        if colour:
            item.setForeground(1, QBrush(QColor(colour)))
        return item

    def _list_failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self._show_message(describe_error(exc), BAD_STYLE)

    # ---------------------------------------------------------------- details

    def _current_changed(self, current: QTreeWidgetItem | None, _previous=None) -> None:
        ref = current.data(0, REF_ROLE) if current is not None else None
        if ref:
            self.load_details(str(ref))
        else:
            self._clear_details()
        self._update_buttons()

    def load_details(self, ref: str) -> None:
        """Load the detail panel for ``ref`` in the background."""
        self._detail_request += 1
        request = self._detail_request
        services, principal = self.services, self.principal
        self.title_label.setText(ref)
        self.state_label.setText("loading...")
        self.runner.submit(lambda: load_details(services, principal, ref),
                           on_done=lambda d: self._details_loaded(request, d),
                           on_error=lambda exc: self._details_failed(request, exc),
                           cancellable=False)

    def _details_loaded(self, request: int, details: VersionDetails) -> None:
        if request != self._detail_request:
            return  # another version was selected meanwhile
        self.details = details
        info = details.info
        self._versions[info.ref] = info
        self.title_label.setText(f"{info.ref}  ({info.kind}, {display_state(info)})")
        self.state_label.setText(state_sentence(info))
        self.lineage_view.setPlainText(lineage_text(info))
        for name, view in self.report_views.items():
            text = details.reports.get(name, "")
            if isinstance(view, QTextBrowser):
                view.setMarkdown(text)
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
        self._update_buttons()
        self.sig_details_loaded.emit(details)

    def _details_failed(self, request: int, exc: BaseException) -> None:
        if request != self._detail_request:
            return
        self._clear_details()
        self._show_message(describe_error(exc), BAD_STYLE)

    def _clear_details(self) -> None:
        self._detail_request += 1  # a load still in flight is for something else now
        self.details = None
        self.title_label.setText("Select a model version")
        self.state_label.setText("")
        self.lineage_view.clear()
        for view in self.report_views.values():
            view.clear()
        self.signature_table.setRowCount(0)
        self.history_model.set_events([])
        self._update_buttons()

    def signature_rows(self) -> list[tuple[str, ...]]:
        """The signatures table as text rows (meaning, user, time, reason)."""
        table = self.signature_table
        return [tuple(table.item(r, c).text() for c in range(table.columnCount()))
                for r in range(table.rowCount())]

    # ---------------------------------------------------------------- buttons

    def _update_buttons(self) -> None:
        """Enable each button the role and the selected version allow; say why if not."""
        details = self.details
        info = details.info if details is not None and details.info.ref == self.current_ref() \
            else None
        busy = self._job is not None
        others = [r for r in self._versions if info is None or r != info.ref]

        def version_rule(check):
            def rule() -> str | None:
                if info is None:
                    return "select a version first"
                return check(info)
            return rule

        rules = {
            self.propose_button: (
                Action.MODEL_PROPOSE, "Proposing a version",
                "Sign the version as the engineer and send it to an approver",
                version_rule(_why_not_proposable)),
            self.approve_button: (
                Action.MODEL_APPROVE, "Approving or rejecting",
                "Review the evidence and sign approved or rejected (four eyes)",
                version_rule(_why_not_decidable)),
            self.compare_button: (
                Action.MODEL_READ, "Comparing versions",
                "Show the fields in which this version differs from another",
                version_rule(lambda _i: None if others else "there is no other version")),
            self.alias_button: (
                Action.MODEL_ALIAS, "Setting an alias",
                "Point production, candidate or another alias of the line at this version",
                version_rule(_why_not_aliasable)),
            self.export_button: (
                Action.PACKAGE_EXPORT, "Exporting a package",
                "Write the signed package to a USB drive and verify the copy",
                version_rule(lambda i: _why_not_exportable(i, busy))),
            self.import_button: (
                Action.PACKAGE_IMPORT, "Importing a package",
                "Verify a package from a USB drive and register its version here",
                lambda: "a transfer is running" if busy else None),
        }
        for button, (action, what, help_text, rule) in rules.items():
            if not may(self.principal, action):
                button.setEnabled(False)
                button.setToolTip(refusal_text(self.principal, action, what))
                continue
            why = rule()
            button.setEnabled(why is None)
            button.setToolTip(help_text if why is None else f"{help_text}. Not now: {why}")

    def _open(self, dialog: QWidget) -> QWidget:
        """Show ``dialog`` window-modal without blocking (tests drive it directly)."""
        old = self.dialog
        if old is not None and old is not dialog and not getattr(old, "busy", False):
            old.deleteLater()
        self.dialog = dialog
        dialog.open()  # type: ignore[attr-defined]
        return dialog

    def propose(self) -> ProposeDialog | None:
        """Open the proposal dialog for the selected version."""
        if self.details is None:
            return None
        dialog = ProposeDialog(self.services, self.runner, self.principal, self.details, self)
        dialog.sig_signed.connect(self._signed)
        self._open(dialog)
        return dialog

    def approve(self) -> ApprovalDialog | None:
        """Open the approve/reject dialog for the selected version."""
        if self.details is None:
            return None
        dialog = ApprovalDialog(self.services, self.runner, self.principal, self.details, self)
        dialog.sig_signed.connect(self._signed)
        self._open(dialog)
        return dialog

    def compare(self) -> CompareDialog | None:
        """Open the side-by-side comparison with another version."""
        ref = self.current_ref()
        if ref is None:
            return None
        others = [r for r in self.version_refs() if r != ref]
        dialog = CompareDialog(self.services, self.runner, self.principal, ref, others, self)
        self._open(dialog)
        return dialog

    def set_alias(self) -> AliasDialog | None:
        """Open the dialog that points an alias of the line at the selected version."""
        if self.details is None:
            return None
        info = self.details.info
        line = self._lines.get(info.line)
        dialog = AliasDialog(self.services, self.runner, self.principal, info,
                             dict(line.aliases) if line is not None else {}, self)
        dialog.sig_alias_set.connect(
            lambda alias, old: self._alias_moved(info, alias, old))
        self._open(dialog)
        return dialog

    def _signed(self, info: ModelVersionInfo) -> None:
        sig = info.signatures[-1] if info.signatures else None
        what = f"{sig.meaning} by {sig.username}" if sig is not None else "signed"
        self._show_message(f"{info.ref} {what}; now {display_state(info)}", GOOD_STYLE)
        self.refresh(select=info.ref)

    def _alias_moved(self, info: ModelVersionInfo, alias: str, old: int | None) -> None:
        was = f" (was v{old})" if old is not None else ""
        self._show_message(f"{alias} of {info.line} now points at v{info.version}{was}",
                           GOOD_STYLE)
        self.refresh(select=info.ref)

    # ---------------------------------------------------------------- USB transfer

    def choose_folder(self) -> Path | None:
        """Ask for the drive folder to export to; None if cancelled. Tests replace this."""
        drives = self.services.packages.drives()
        start = str(drives[0].path) if drives else str(Path.home())
        folder = QFileDialog.getExistingDirectory(self, "Export the package to a drive", start)
        return Path(folder) if folder else None

    def choose_package_file(self) -> Path | None:
        """Ask for the package file to import; None if cancelled. Tests replace this."""
        drives = self.services.packages.drives()
        start = str(drives[0].path) if drives else str(Path.home())
        name, _filter = QFileDialog.getOpenFileName(self, "Import a package from a drive",
                                                    start, PACKAGE_FILTER)
        return Path(name) if name else None

    def export_to_drive(self) -> None:
        """Export the selected approved version to a chosen folder, with progress."""
        ref = self.current_ref()
        if self._job is not None or ref is None:
            return
        folder = self.choose_folder()
        if folder is None:
            return
        export = self.services.packages.export_to_drive
        principal = self.principal
        self._start_job(f"exporting {ref}")
        self._job = self.runner.submit(
            lambda progress, cancel: export(principal, ref=ref, drive_folder=folder,
                                            progress=progress, cancel=cancel),
            on_done=self._exported, on_error=lambda exc: self._job_failed("export", exc),
            on_progress=self._progress)
        self._update_buttons()

    def import_from_drive(self) -> None:
        """Import a chosen package file: verified, then registered with its lineage."""
        if self._job is not None:
            return
        path = self.choose_package_file()
        if path is None:
            return
        do_import = self.services.packages.import_from_drive
        principal = self.principal
        self._start_job(f"importing {path.name}")
        self._job = self.runner.submit(
            lambda progress, cancel: do_import(principal, path=path, progress=progress,
                                               cancel=cancel),
            on_done=self._imported, on_error=lambda exc: self._job_failed("import", exc),
            on_progress=self._progress)
        self._update_buttons()

    def cancel_job(self) -> None:
        """Ask the running export or import to stop."""
        if self._job is not None:
            self._job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_bar.setFormat("cancelling...")

    @property
    def job_running(self) -> bool:
        """True while an export or import runs."""
        return self._job is not None

    def _start_job(self, what: str) -> None:
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(f"{what} (%p%)")
        self.progress_bar.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setVisible(True)
        self._show_message("", NOTE_STYLE)

    def _progress(self, fraction: float, message: str) -> None:
        if self._job is None or self._job.cancelled:
            return
        self.progress_bar.setValue(round(max(0.0, min(1.0, fraction)) * 1000))
        self.progress_bar.setFormat(f"{message} (%p%)")

    def _end_job(self, keep_bar: bool = False) -> None:
        self._job = None
        self.cancel_button.setVisible(False)
        self.progress_bar.setVisible(keep_bar)
        self._update_buttons()

    def _exported(self, result) -> None:
        # The bar stays at 100 % with "safe to remove" until the next transfer.
        self.progress_bar.setValue(self.progress_bar.maximum())
        self.progress_bar.setFormat("safe to remove (%p%)")
        self._end_job(keep_bar=True)
        self._show_message(f"exported to {result.path} and verified on the drive "
                           f"(sha256 {result.sha256[:16]}); safe to remove", GOOD_STYLE)
        self.sig_exported.emit(result)
        self.refresh()

    def _imported(self, info: ModelVersionInfo) -> None:
        self.progress_bar.setValue(self.progress_bar.maximum())
        self.progress_bar.setFormat("imported (%p%)")
        self._end_job(keep_bar=True)
        self._show_message(f"imported {info.ref} ({info.state}) with its lineage and reports",
                           GOOD_STYLE)
        self.sig_imported.emit(info)
        self.refresh(select=info.ref)

    def _job_failed(self, what: str, exc: BaseException) -> None:
        self._end_job()
        if isinstance(exc, Cancelled):
            self._show_message(f"{what} cancelled", NOTE_STYLE)
        else:
            self._show_message(f"{what} failed: {describe_error(exc)}", BAD_STYLE)
        # Refusals and failed transfers are audit events: the trail tab shows them.
        self.refresh()

    def _show_message(self, text: str, style: str) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet(style)


def _why_not_proposable(info: ModelVersionInfo) -> str | None:
    if info.state == "validated" and not info.proposed_by:
        return None
    if info.proposed_by:
        return f"{info.ref} was already proposed by {info.proposed_by}"
    if info.state == "draft":
        return f"{info.ref} is a draft: it did not pass the parity gate"
    return f"{info.ref} is {info.state}"


def _why_not_decidable(info: ModelVersionInfo) -> str | None:
    if info.state == "validated" and info.proposed_by:
        return None
    if info.state == "validated":
        return f"{info.ref} has not been proposed yet"
    return f"{info.ref} is {info.state}: already decided or not releasable"


def _why_not_exportable(info: ModelVersionInfo, busy: bool) -> str | None:
    if busy:
        return "a transfer is running"
    if info.state != "approved":
        return f"{info.ref} is {display_state(info)}: only approved versions are exported"
    return None


def _why_not_aliasable(info: ModelVersionInfo) -> str | None:
    if info.state in ("rejected", "retired"):
        return f"{info.ref} is {info.state}"
    return None
