"""The Models page: model lines and versions, their evidence, four-eyes release, USB transfer,
evaluation on a dataset, the ONNX file and retirement."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.model_version import ModelVersion
from app.core.principal import Principal
from app.core.records import ModelLineInfo
from app.core.roles import Action
from app.services import Services
from app.ui.dialogs.alias_dialog import AliasDialog
from app.ui.dialogs.approval_dialog import ApprovalDialog
from app.ui.dialogs.compare_dialog import CompareDialog
from app.ui.dialogs.evaluate_dialog import EvaluateDialog
from app.ui.dialogs.propose_dialog import ProposeDialog
from app.ui.dialogs.reason_dialog import ReasonDialog
from app.ui.look import icon
from app.ui.model_details import VersionDetails, load_details, load_lines
from app.ui.model_rules import version_rules
from app.ui.pages.version_dialogs import VersionDialogs
from app.ui.permissions import apply_rules
from app.ui.styles import BAD_STYLE, NOTE_STYLE
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets import onnx_export
from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.model_tree import ModelTree, ref_of
from app.ui.widgets.page import Page
from app.ui.widgets.usb_panel import UsbPanel
from app.ui.widgets.version_panel import VersionPanel


class ModelsView(Page):
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
    """A package was imported; carries the ModelVersion it registered."""

    sig_onnx_exported = Signal(object)
    """The ONNX file was written; carries its Path."""

    sig_retired = Signal(object)
    """A version was retired; carries the ModelVersion the service returned."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, parent)
        self.details: VersionDetails | None = None
        self._lines: dict[str, ModelLineInfo] = {}
        self._versions: dict[str, ModelVersion] = {}
        self._wanted_ref: str | None = None
        self._shown_once = False

        # ------------------------------------------------------------ left: the tree
        self.tree = ModelTree()
        self.tree.currentItemChanged.connect(self._current_changed)
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
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
        self.panel = VersionPanel(runner)
        self.panel.sig_loaded.connect(self._details_loaded)
        self.panel.sig_failed.connect(self._details_failed)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)

        # ------------------------------------------------------------ below: actions
        self.propose_button = QPushButton(icon("sign"), "Propose...")
        self.propose_button.clicked.connect(self.propose)
        self.approve_button = QPushButton(icon("sign"), "Approve/Reject...")
        self.approve_button.clicked.connect(self.approve)
        self.compare_button = QPushButton(icon("compare"), "Compare with...")
        self.compare_button.clicked.connect(self.compare)
        self.alias_button = QPushButton(icon("alias"), "Set alias...")
        self.alias_button.clicked.connect(self.set_alias)
        self.retire_button = QPushButton(icon("stop"), "Retire...")
        self.retire_button.clicked.connect(self.retire)
        self.evaluate_button = QPushButton(icon("verify"), "Evaluate on a dataset...")
        self.evaluate_button.clicked.connect(self.evaluate)
        self.onnx_button = QPushButton(icon("export"), "Export ONNX file...")
        self.onnx_button.clicked.connect(self.export_onnx)
        self.jobs = JobControls(runner)
        self.jobs.sig_busy_changed.connect(lambda _busy: self._update_buttons())
        self.progress_bar = self.jobs.progress_bar
        self.cancel_button = self.jobs.cancel_button
        self.message_label = self.jobs.message_label
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.usb = UsbPanel(services, principal, self.jobs, self.current_ref,
                            lambda select: self.refresh(select=select))
        self.usb.sig_exported.connect(self.sig_exported)
        self.usb.sig_imported.connect(self.sig_imported)
        self.export_button = self.usb.export_button
        self.import_button = self.usb.import_button
        self.dialogs = VersionDialogs(services, runner, principal, self.jobs,
                                      lambda select: self.refresh(select=select), self)
        self.dialogs.sig_retired.connect(self.sig_retired)
        self.onnx = onnx_export.OnnxExport(services, principal, self.jobs,
                                           lambda select: self.refresh(select=select), self)
        self.onnx.sig_exported.connect(self.sig_onnx_exported)

        # Two rows, so the page still fits 1100 px: releasing above, looking and files below.
        release = QHBoxLayout()
        for button in (self.propose_button, self.approve_button, self.alias_button,
                       self.retire_button):
            release.addWidget(button)
        release.addWidget(self.usb)  # export to and import from a drive
        release.addStretch(1)
        tools = QHBoxLayout()
        for button in (self.compare_button, self.evaluate_button, self.onnx_button):
            tools.addWidget(button)
        tools.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(release)
        layout.addLayout(tools)
        layout.addWidget(self.jobs)
        layout.addWidget(self.message_label)
        self._update_buttons()

    # ---------------------------------------------------------------- listing

    def action_buttons(self) -> list[QPushButton]:
        """The action buttons: the release row, then the tools row."""
        return [self.propose_button, self.approve_button, self.alias_button,
                self.retire_button, self.export_button, self.import_button,
                self.compare_button, self.evaluate_button, self.onnx_button]

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
        services, principal = self.services, self.principal
        if not self.read_if_allowed(self.jobs, action=Action.MODEL_READ, what="Viewing models",
                                    button=self.refresh_button,
                                    fn=lambda: load_lines(services, principal),
                                    on_done=self._listed):
            self.count_label.setText("")

    def _refresh_clicked(self, *_args: object) -> None:
        self.refresh()

    def current_ref(self) -> str | None:
        """``line:vN`` of the selected version, or None."""
        return self.tree.current_ref()

    def version_refs(self) -> list[str]:
        """Every version listed, in tree order."""
        return self.tree.version_refs()

    def version_row(self, ref: str) -> tuple[str, str, str]:
        """What the tree shows for ``ref``: (label, state, aliases)."""
        item = self.tree.item_for(ref)
        if item is None:
            raise KeyError(ref)
        return item.text(0), item.text(1), item.text(2)

    def select(self, ref: str) -> bool:
        """Select the version ``ref`` (its details then load); False if it is not listed."""
        item = self.tree.item_for(ref)
        if item is None:
            return False
        self.tree.setCurrentItem(item)
        return True

    def _listed(self, lines: list[tuple[ModelLineInfo, list[ModelVersion]]]) -> None:
        wanted = self._wanted_ref
        self._lines = {line.name: line for line, _ in lines}
        self._versions = {v.ref: v for _, versions in lines for v in versions}
        self.tree.fill(lines)
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

    # ---------------------------------------------------------------- details

    def _current_changed(self, current: QTreeWidgetItem | None, _previous=None) -> None:
        ref = ref_of(current)
        if ref:
            self.load_details(ref)
        else:
            self._clear_details()
        self._update_buttons()

    def load_details(self, ref: str) -> None:
        """Load the detail panel for ``ref`` in the background."""
        services, principal = self.services, self.principal
        self.panel.load(ref, lambda: load_details(services, principal, ref))

    def _details_loaded(self, details: VersionDetails) -> None:
        self.details = details
        self._versions[details.info.ref] = details.info
        self._update_buttons()
        self.sig_details_loaded.emit(details)

    def _details_failed(self, exc: BaseException) -> None:
        self._clear_details()
        self.jobs.show_message(describe_error(exc), BAD_STYLE)

    def _clear_details(self) -> None:
        self.details = None
        self.panel.clear()
        self._update_buttons()

    def signature_rows(self) -> list[tuple[str, ...]]:
        """The signatures table as text rows (meaning, user, time, reason)."""
        return self.panel.signature_rows()

    # ---------------------------------------------------------------- buttons

    def _update_buttons(self) -> None:
        """Enable each button the role and the selected version allow; say why if not."""
        details = self.details
        info = details.info if details is not None and details.info.ref == self.current_ref() \
            else None
        busy = self.jobs.running
        others = [r for r in self._versions if info is None or r != info.ref]

        rules = version_rules(info, has_others=bool(others), busy=busy)
        apply_rules(self.principal, {getattr(self, f"{name}_button"): rule
                                     for name, rule in rules.items()})

    @property
    def dialog(self) -> QWidget | None:
        """The dialog opened last (window-modal, not blocking)."""
        return self.dialogs.dialog

    def propose(self) -> ProposeDialog | None:
        """Open the proposal dialog for the selected version."""
        return None if self.details is None else self.dialogs.propose(self.details)

    def approve(self) -> ApprovalDialog | None:
        """Open the approve/reject dialog for the selected version."""
        return None if self.details is None else self.dialogs.approve(self.details)

    def compare(self) -> CompareDialog | None:
        """Open the side-by-side comparison with another version."""
        ref = self.current_ref()
        if ref is None:
            return None
        return self.dialogs.compare(ref, [r for r in self.version_refs() if r != ref])

    def set_alias(self) -> AliasDialog | None:
        """Open the dialog that points an alias of the line at the selected version."""
        if self.details is None:
            return None
        info = self.details.info
        line = self._lines.get(info.line)
        return self.dialogs.set_alias(info, dict(line.aliases) if line is not None else {})

    # ---------------------------------------------------------------- USB transfer

    def cancel_job(self) -> None:
        """Ask the running export or import to stop."""
        self.jobs.cancel()

    @property
    def job_running(self) -> bool:
        """True while an export or import runs."""
        return self.jobs.running

    # ---------------------------------------------------------------- evaluate, ONNX, retire

    def evaluate(self) -> EvaluateDialog | None:
        """Open the evaluation of the selected version on a dataset."""
        ref = self.current_ref()
        if ref is None:
            return None
        return self.dialogs.evaluate(ref)

    def choose_onnx_file(self, ref: str) -> Path | None:
        """Ask where to write the ONNX file; None if cancelled. Tests replace this."""
        return onnx_export.choose_onnx_file(self, ref)

    def confirm_overwrite(self, path: Path) -> bool:
        """Ask before replacing ``path``. Tests replace this."""
        return onnx_export.confirm_overwrite(self, path)

    def export_onnx(self) -> None:
        """Write the selected version's ONNX model to a chosen file; the service refuses a
        version that did not pass the parity gate."""
        ref = self.current_ref()
        if ref is None or self.jobs.running:
            return
        path = self.choose_onnx_file(ref)
        if path is None:
            return
        if path.exists() and not path.is_dir() and not self.confirm_overwrite(path):
            self.jobs.show_message(f"not exported: {path} was kept", NOTE_STYLE)
            return
        self.onnx.export(ref, path)

    def retire(self) -> ReasonDialog | None:
        """Ask for a reason and a confirmation, then retire the selected version."""
        return None if self.details is None else self.dialogs.retire(self.details.info)
