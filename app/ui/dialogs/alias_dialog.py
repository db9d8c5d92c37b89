"""Point an alias of a model line (production, candidate, ...) at one version, with a reason."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.model_version import ModelVersion
from app.core.principal import Principal
from app.services import Services
from app.ui.dialogs.job_dialog import JobDialog
from app.ui.task_runner import TaskRunner, describe_error

#: Offered first; any other short name may be typed.
SUGGESTED = ("production", "candidate")


class AliasDialog(JobDialog):
    """Alias name and reason; the move runs on the task runner and is audited by the
    service, which also refuses ``production`` for a version that is not approved."""

    sig_alias_set = Signal(str, object)
    """The alias moved; carries its name and the version it pointed to before (or None)."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 info: ModelVersion, line_aliases: dict[str, int] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(runner, parent)
        self.services = services
        self.principal = principal
        self.info = info
        self.setWindowTitle(f"Set an alias to {info.ref}")

        current = line_aliases or {}
        self.alias_combo = QComboBox()
        self.alias_combo.setEditable(True)
        names = list(SUGGESTED) + sorted(a for a in current if a not in SUGGESTED)
        for name in names:
            where = f"  (now v{current[name]})" if name in current else ""
            self.alias_combo.addItem(f"{name}{where}", name)
        self.alias_combo.setCurrentIndex(-1)
        self.alias_combo.setEditText("")
        line_edit = self.alias_combo.lineEdit()  # there is one: the combo is editable
        if line_edit is not None:
            line_edit.setPlaceholderText("production, candidate, ...")
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("why the alias moves (required)")

        self.buttons = QDialogButtonBox()
        self.set_button = QPushButton("Set alias")
        self.set_button.setDefault(True)
        self.default_button = self.set_button
        self.buttons.addButton(self.set_button, QDialogButtonBox.ButtonRole.AcceptRole)
        cancel = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.set_button.clicked.connect(self.submit)
        cancel.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow("Alias", self.alias_combo)
        form.addRow("Reason", self.reason_edit)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Point an alias of {info.line} at version {info.version}."))
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

    def alias(self) -> str:
        """The alias name chosen or typed."""
        text = self.alias_combo.currentText().strip()
        index = self.alias_combo.findText(text)
        if index >= 0 and self.alias_combo.itemData(index):
            return str(self.alias_combo.itemData(index))
        return text.lower()

    def submit(self) -> None:
        """Move the alias in the background."""
        if self.busy:
            return
        alias, reason = self.alias(), self.reason_edit.text().strip()
        if not alias:
            self.error_label.setText("name the alias")
            return
        if not reason:
            self.error_label.setText("say why the alias moves")
            return
        set_alias = self.services.registry.set_alias
        principal, ref = self.principal, self.info.ref
        self.error_label.setText("")
        self.run_job(lambda: set_alias(principal, ref=ref, alias=alias, reason=reason),
                     on_done=lambda old: self._done(alias, old), on_error=self._failed)

    def busy_widgets(self) -> list[QWidget]:
        return [self.alias_combo, self.reason_edit, self.set_button]

    def _done(self, alias: str, old: int | None) -> None:
        # Announced even after a close: the alias did move.
        self.sig_alias_set.emit(alias, old)
        if not self.abandoned:
            self.accept()

    def _failed(self, exc: BaseException) -> None:
        if not self.abandoned:
            self.error_label.setText(describe_error(exc))
