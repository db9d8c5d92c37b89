"""The engineer's signature: propose a validated version for release on named hardware."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit, QSpinBox, QWidget

from app.core.principal import Principal
from app.services import Services
from app.services.approvals import DEFAULT_VALIDITY_DAYS
from app.ui.dialogs.signing_dialog import SigningDialog, SignJob
from app.ui.model_details import VersionDetails, evidence_text
from app.ui.task_runner import TaskRunner

#: The service's bounds for how long a release stays valid.
MIN_DAYS, MAX_DAYS = 1, 3650


def parse_hardware_ids(text: str) -> list[str]:
    """``"EDGE-01, EDGE-02"`` -> ``["EDGE-01", "EDGE-02"]`` (commas or whitespace)."""
    return [part for part in text.replace(",", " ").split() if part]


class ProposeDialog(SigningDialog):
    """Fix the release (hardware ids, validity) and sign it as the engineer; an approver
    then decides."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 details: VersionDetails, parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, details.info,
                         title=f"Propose {details.info.ref} for release",
                         sign_text="Sign proposal", build_job=self._sign_job, parent=parent)
        self.details = details
        self.hardware_edit = QLineEdit()
        self.hardware_edit.setPlaceholderText("e.g. EDGE-01, EDGE-02")
        self.hardware_edit.setToolTip("Hardware ids of the controllers this model may run on, "
                                      "separated by commas ('*' is not allowed)")
        self.days_spin = QSpinBox()
        self.days_spin.setRange(MIN_DAYS, MAX_DAYS)
        self.days_spin.setValue(DEFAULT_VALIDITY_DAYS)
        self.days_spin.setSuffix(" days")
        self.days_spin.setToolTip("After this the package is refused unless renewed")
        self.add_row("Hardware ids", self.hardware_edit)
        self.add_row("Valid for", self.days_spin)
        self.finish_form()
        self.set_evidence(evidence_text(details))

    def _sign_job(self, password: str, reason: str) -> SignJob | None:
        """The proposal to sign (this dialog's JobBuilder), or None for a bad field."""
        hardware_ids = parse_hardware_ids(self.hardware_edit.text())
        if not hardware_ids:
            self.show_error("name at least one hardware id")
            self.hardware_edit.setFocus()
            return None
        if "*" in hardware_ids:
            self.show_error("name the hardware ids; '*' is not allowed")
            self.hardware_edit.setFocus()
            return None
        propose = self.services.approvals.propose
        principal, ref, days = self.principal, self.info.ref, self.days_spin.value()
        return lambda: propose(principal, ref=ref, password=password,
                               hardware_ids=hardware_ids, reason=reason, valid_days=days)
