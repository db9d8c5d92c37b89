"""The approver's signature: review the evidence, approve or reject, reason and password."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup, QCheckBox, QHBoxLayout, QRadioButton, QWidget

from app.core.errors import PlantMLError
from app.core.principal import Principal
from app.services import Services
from app.ui.dialogs.signing_dialog import SigningDialog, SignJob
from app.ui.model_details import VersionDetails, evidence_text
from app.ui.task_runner import TaskRunner


class ApprovalDialog(SigningDialog):
    """Approve or reject a proposed version (four eyes: the service refuses the person who
    trained or proposed it, and the refusal is shown here)."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 details: VersionDetails, parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, details.info,
                         title=f"Approve or reject {details.info.ref}", sign_text="Sign",
                         build_job=self._sign_job, parent=parent)
        self.details = details
        self.approve_radio = QRadioButton("approved")
        self.approve_radio.setToolTip("Release the version: it may be packaged and deployed")
        self.reject_radio = QRadioButton("rejected")
        self.reject_radio.setToolTip("Refuse the version for good (final)")
        # Neither is preselected: the meaning of a signature is chosen, never defaulted.
        self.meaning_group = QButtonGroup(self)
        self.meaning_group.addButton(self.approve_radio)
        self.meaning_group.addButton(self.reject_radio)
        meanings = QWidget()
        row = QHBoxLayout(meanings)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.approve_radio)
        row.addWidget(self.reject_radio)
        row.addStretch(1)
        self.add_row("Meaning", meanings)
        # What `plantml approve` shows: robustness table, held-out conditions, inputs and
        # envelope, parity, the trail. A small read of the stored reports.
        self.not_robust = False
        extra: list[str] = []
        try:
            evidence = services.approvals.evidence(principal, ref=details.info.ref)
            self.not_robust = evidence.not_robust
            extra = evidence.lines()
        except PlantMLError as exc:
            extra = [f"Cannot show the approval evidence: {exc}"]
        self.accept_box = QCheckBox("I accept that this version is NOT ROBUST (the reason "
                                    "must say why)")
        self.accept_box.setObjectName("accept-not-robust")
        self.accept_box.setVisible(self.not_robust)
        if self.not_robust:
            self.add_row("Robustness", self.accept_box)
        self.finish_form()
        self.set_evidence("\n".join([evidence_text(details), "", *extra]))

    def meaning(self) -> str | None:
        """``approved``, ``rejected``, or None while neither is chosen."""
        if self.approve_radio.isChecked():
            return "approved"
        if self.reject_radio.isChecked():
            return "rejected"
        return None

    def _sign_job(self, password: str, reason: str) -> SignJob | None:
        """The decision to sign (this dialog's JobBuilder), or None for a bad field."""
        meaning = self.meaning()
        if meaning is None:
            self.show_error("choose approved or rejected")
            return None
        accept = self.not_robust and self.accept_box.isChecked()
        if meaning == "approved" and self.not_robust and not accept:
            self.show_error("this version is flagged NOT ROBUST: tick the acceptance and say "
                            "in the reason why its robustness is acceptable")
            return None
        decide = self.services.approvals.decide
        principal, ref = self.principal, self.info.ref
        return lambda: decide(principal, ref=ref, password=password, meaning=meaning,
                              reason=reason, accept_not_robust=accept)

    def busy_widgets(self) -> list[QWidget]:
        return [*super().busy_widgets(), self.approve_radio, self.reject_radio,
                self.accept_box]
