"""The Models page's dialogs on a version, opened one at a time, and what they changed."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from app.core.model_version import ModelVersion
from app.core.principal import Principal
from app.services import Services
from app.ui.dialogs.alias_dialog import AliasDialog
from app.ui.dialogs.approval_dialog import ApprovalDialog
from app.ui.dialogs.compare_dialog import CompareDialog
from app.ui.dialogs.evaluate_dialog import EvaluateDialog
from app.ui.dialogs.in_place import open_in_place_of
from app.ui.dialogs.propose_dialog import ProposeDialog
from app.ui.dialogs.reason_dialog import ReasonDialog
from app.ui.dialogs.signing_dialog import SigningDialog
from app.ui.model_details import VersionDetails, display_state
from app.ui.styles import GOOD_STYLE
from app.ui.task_runner import TaskRunner
from app.ui.widgets.job_controls import JobControls

#: A signing dialog class opened on the selected version.
SigningDialogT = TypeVar("SigningDialogT", bound=SigningDialog)


class VersionDialogs(QObject):
    """Opens the propose, approve/reject, compare, alias, evaluate and retire dialogs over
    ``page`` window-modal without blocking (tests drive them directly), keeps the one open
    in :attr:`dialog`, says in ``jobs``' message line what a signature, an alias or a
    retirement changed, and reloads the page on that version (``refresh(select)``)."""

    sig_retired = Signal(object)
    """A version was retired; carries the ModelVersion the service returned."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 jobs: JobControls, refresh: Callable[[str | None], None],
                 page: QWidget) -> None:
        super().__init__(page)
        self.services, self.runner, self.principal = services, runner, principal
        self.jobs, self._refresh, self._page = jobs, refresh, page
        self.dialog: QWidget | None = None

    def open(self, dialog: QWidget) -> QWidget:
        """Show ``dialog`` window-modal without blocking, in place of the one shown before
        (unless that one still works)."""
        self.dialog = open_in_place_of(self.dialog, dialog)
        return dialog

    def propose(self, details: VersionDetails) -> ProposeDialog:
        """Open the proposal dialog for the version of ``details``."""
        return self._open_signing(ProposeDialog, details)

    def approve(self, details: VersionDetails) -> ApprovalDialog:
        """Open the approve/reject dialog for the version of ``details``."""
        return self._open_signing(ApprovalDialog, details)

    def _open_signing(self, kind: Callable[[Services, TaskRunner, Principal, VersionDetails,
                                            QWidget], SigningDialogT],
                      details: VersionDetails) -> SigningDialogT:
        dialog = kind(self.services, self.runner, self.principal, details, self._page)
        dialog.sig_signed.connect(self._signed)
        self.open(dialog)
        return dialog

    def compare(self, ref: str, others: list[str]) -> CompareDialog:
        """Open the side-by-side comparison of ``ref`` with one of ``others``."""
        dialog = CompareDialog(self.services, self.runner, self.principal, ref, others,
                               self._page)
        self.open(dialog)
        return dialog

    def set_alias(self, info: ModelVersion, aliases: dict[str, int]) -> AliasDialog:
        """Open the dialog that points an alias of ``info``'s line (now ``aliases``) at it."""
        dialog = AliasDialog(self.services, self.runner, self.principal, info, aliases,
                             self._page)
        dialog.sig_alias_set.connect(
            lambda alias, old: self._alias_moved(info, alias, old))
        self.open(dialog)
        return dialog

    def evaluate(self, ref: str) -> EvaluateDialog:
        """Open the evaluation of ``ref`` on a dataset."""
        dialog = EvaluateDialog(self.services, self.runner, self.principal, ref, self._page)
        self.open(dialog)
        return dialog

    def retire(self, info: ModelVersion) -> ReasonDialog:
        """Ask for a reason and a confirmation, then retire ``info``."""
        retire, principal, ref = self.services.registry.retire, self.principal, info.ref
        aliases = ", ".join(info.aliases) if info.aliases else ""
        dialog = ReasonDialog(
            self.runner, title=f"Retire {ref}",
            question=f"Retire {ref} ({display_state(info)})? It is withdrawn for good: it can "
                     "no longer be approved, packaged or deployed"
                     + (f", and its aliases ({aliases}) are removed." if aliases else "."),
            confirm_text="Retire",
            reason_hint="why the version is retired (required; it goes into the audit trail)",
            job=lambda reason: retire(principal, ref=ref, reason=reason), parent=self._page)

        def retired(version: ModelVersion) -> None:
            self.jobs.show_message(f"{version.ref} retired", GOOD_STYLE)
            self.sig_retired.emit(version)
            self._refresh(version.ref)

        dialog.sig_done.connect(retired)
        self.open(dialog)
        return dialog

    def _signed(self, info: ModelVersion) -> None:
        sig = info.signatures[-1] if info.signatures else None
        what = f"{sig.meaning} by {sig.username}" if sig is not None else "signed"
        self.jobs.show_message(f"{info.ref} {what}; now {display_state(info)}", GOOD_STYLE)
        self._refresh(info.ref)

    def _alias_moved(self, info: ModelVersion, alias: str, old: int | None) -> None:
        was = f" (was v{old})" if old is not None else ""
        self.jobs.show_message(f"{alias} of {info.line} now points at v{info.version}{was}",
                               GOOD_STYLE)
        self._refresh(info.ref)
