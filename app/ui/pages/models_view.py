"""The Models page: model lines and versions, their evidence, four-eyes release and USB transfer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

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
from app.ui.dialogs.propose_dialog import ProposeDialog
from app.ui.dialogs.signing_dialog import SigningDialog
from app.ui.look import icon
from app.ui.model_details import (
    VersionDetails,
    display_state,
    load_details,
    load_lines,
)
from app.ui.model_rules import version_rules
from app.ui.permissions import apply_rules
from app.ui.styles import BAD_STYLE, GOOD_STYLE
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.model_tree import ModelTree, ref_of
from app.ui.widgets.page import Page
from app.ui.widgets.usb_panel import UsbPanel
from app.ui.widgets.version_panel import VersionPanel

#: A signing dialog class opened on the selected version.
SigningDialogT = TypeVar("SigningDialogT", bound=SigningDialog)


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

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, parent)
        self.details: VersionDetails | None = None
        self.dialog: QWidget | None = None
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

        actions = QHBoxLayout()
        for button in self.action_buttons()[:-2]:
            actions.addWidget(button)
        actions.addWidget(self.usb)  # export and import, the last two action buttons
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(actions)
        layout.addWidget(self.jobs)
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
        return self._open_signing(ProposeDialog)

    def approve(self) -> ApprovalDialog | None:
        """Open the approve/reject dialog for the selected version."""
        return self._open_signing(ApprovalDialog)

    def _open_signing(self, kind: Callable[[Services, TaskRunner, Principal, VersionDetails,
                                            QWidget], SigningDialogT]) -> SigningDialogT | None:
        if self.details is None:
            return None
        dialog = kind(self.services, self.runner, self.principal, self.details, self)
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

    def _signed(self, info: ModelVersion) -> None:
        sig = info.signatures[-1] if info.signatures else None
        what = f"{sig.meaning} by {sig.username}" if sig is not None else "signed"
        self.jobs.show_message(f"{info.ref} {what}; now {display_state(info)}", GOOD_STYLE)
        self.refresh(select=info.ref)

    def _alias_moved(self, info: ModelVersion, alias: str, old: int | None) -> None:
        was = f" (was v{old})" if old is not None else ""
        self.jobs.show_message(f"{alias} of {info.line} now points at v{info.version}{was}",
                           GOOD_STYLE)
        self.refresh(select=info.ref)

    # ---------------------------------------------------------------- USB transfer

    def cancel_job(self) -> None:
        """Ask the running export or import to stop."""
        self.jobs.cancel()

    @property
    def job_running(self) -> bool:
        """True while an export or import runs."""
        return self.jobs.running
