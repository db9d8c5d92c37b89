"""Point an alias of a model line (production, candidate, ...) at one version, with a reason."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
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
from app.ui.styles import ERROR_STYLE
from app.ui.task_runner import TaskRunner, describe_error

#: Offered first; any other short name may be typed.
SUGGESTED = ("production", "candidate")


class AliasDialog(QDialog):
    """Alias name and reason; the move runs on the task runner and is audited by the
    service, which also refuses ``production`` for a version that is not approved."""

    sig_alias_set = Signal(str, object)
    """The alias moved; carries its name and the version it pointed to before (or None)."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 info: ModelVersion, line_aliases: dict[str, int] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.principal = principal
        self.info = info
        self._busy = False
        self._abandoned = False
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
        self.alias_combo.lineEdit().setPlaceholderText("production, candidate, ...")
        self.reason_edit = QLineEdit()
        self.reason_edit.setPlaceholderText("why the alias moves (required)")
        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)

        self.buttons = QDialogButtonBox()
        self.set_button = QPushButton("Set alias")
        self.set_button.setDefault(True)
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

    @property
    def busy(self) -> bool:
        """True while the alias is being moved."""
        return self._busy

    def alias(self) -> str:
        """The alias name chosen or typed."""
        text = self.alias_combo.currentText().strip()
        index = self.alias_combo.findText(text)
        if index >= 0 and self.alias_combo.itemData(index):
            return str(self.alias_combo.itemData(index))
        return text.lower()

    def submit(self) -> None:
        """Move the alias in the background."""
        if self._busy:
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
        self._set_busy(True)
        self.error_label.setText("")
        self.runner.submit(lambda: set_alias(principal, ref=ref, alias=alias, reason=reason),
                           on_done=lambda old: self._done(alias, old), on_error=self._failed,
                           cancellable=False)

    def reject(self) -> None:
        if self._busy:
            self._abandoned = True
        super().reject()

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for widget in (self.alias_combo, self.reason_edit, self.set_button):
            widget.setEnabled(not busy)

    def _done(self, alias: str, old: int | None) -> None:
        self._set_busy(False)
        self.sig_alias_set.emit(alias, old)
        if not self._abandoned:
            self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        if not self._abandoned:
            self.error_label.setText(describe_error(exc))
