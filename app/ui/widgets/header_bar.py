"""The strip above every page: its title and next step, the signed-in user and role, and the
workspace's health (read-only alarm, audit chain state from the last verification)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from app.core.principal import Principal
from app.core.records import AuditEvent
from app.ui.navigation import translate
from app.ui.styles import show_status
from app.ui.time_format import format_time

#: The results a verification event can have (a refusal is not a verification).
VERIFIED = ("ok", "failed")


def last_verification(events: Sequence[AuditEvent]) -> AuditEvent | None:
    """The newest event of ``events`` (newest first) that is a verification's verdict."""
    return next((e for e in events if e.result in VERIFIED), None)


def audit_state(event: AuditEvent | None) -> tuple[str, str, str]:
    """Text, status and tooltip for the audit chain after the verification ``event``."""
    if event is None:
        return (translate("MainWindow", "audit trail: not verified yet"), "warn",
                translate("MainWindow", "An auditor or administrator verifies it on the "
                          "Audit page."))
    when = format_time(event.ts)
    who = f"{when}, {event.user}"
    if event.result == "ok":
        return (translate("MainWindow", "audit trail: intact"), "ok",
                translate("MainWindow", "last verified") + f" {who}")
    bad = (event.new or {}).get("first_bad_seq") if isinstance(event.new, dict) else None
    where = f" at sequence {bad}" if bad is not None else ""
    return (translate("MainWindow", "audit trail: BROKEN") + where, "alarm",
            translate("MainWindow", "last verified") + f" {who}: {event.reason}")


class HeaderBar(QFrame):
    """Page title with the next step of the loop on the left; who is signed in and how the
    workspace is on the right. It only shows what the window tells it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        self.title_label = QLabel("")
        self.title_label.setObjectName("header-title")
        self.hint_label = QLabel("")
        self.hint_label.setObjectName("next-step")
        self.hint_label.setWordWrap(True)
        self.user_label = QLabel("")
        self.user_label.setObjectName("header-user")
        self.health_label = QLabel("")
        self.health_label.setObjectName("header-health")
        self.audit_label = QLabel("")
        self.audit_label.setObjectName("header-audit")

        left = QVBoxLayout()
        left.setSpacing(2)
        left.addWidget(self.title_label)
        left.addWidget(self.hint_label)
        right = QVBoxLayout()
        right.setSpacing(2)
        right.addWidget(self.user_label)
        status_row = QHBoxLayout()
        status_row.setSpacing(12)
        status_row.addWidget(self.health_label)
        status_row.addWidget(self.audit_label)
        right.addLayout(status_row)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.addLayout(left, 1)
        layout.addSpacing(24)
        layout.addLayout(right)
        self.set_health("")
        self.set_audit(None)

    def set_page(self, title: str, hint: str) -> None:
        """The visible page's title and its next step."""
        self.title_label.setText(title)
        self.hint_label.setText(hint)

    def set_user(self, principal: Principal) -> None:
        """Who is signed in, with their roles."""
        roles = (", ".join(sorted(r.value for r in principal.roles))
                 or translate("MainWindow", "no roles"))
        self.user_label.setText(f"{principal.username}  \u00b7  {roles}")

    def set_health(self, alarm: str) -> None:
        """The workspace's read-only alarm (empty: it is writable)."""
        if alarm:
            show_status(self.health_label, translate("MainWindow", "workspace: READ-ONLY"), "alarm")
            self.health_label.setToolTip(alarm)
        else:
            show_status(self.health_label, translate("MainWindow", "workspace: writable"), "ok")
            self.health_label.setToolTip("")

    def set_audit(self, event: AuditEvent | None, *, unknown: str = "") -> None:
        """The audit chain as the last verification left it; ``unknown`` says why it could
        not be read (shown instead)."""
        if unknown:
            show_status(self.audit_label, translate("MainWindow", "audit trail: state unknown"),
                       "warn")
            self.audit_label.setToolTip(unknown)
            return
        text, status, tip = audit_state(event)
        show_status(self.audit_label, text, status)
        self.audit_label.setToolTip(tip)
