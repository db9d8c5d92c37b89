"""Shows the administrator's one-time recovery code, once, with "write it down / print"."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class RecoveryCodeDialog(QDialog):
    """The code, a Print button and a "written down" box that must be ticked to close.

    The workspace keeps only a hash of the code: once this dialog is closed nobody can show
    it again (a new one needs the administrator's password, Administration page)."""

    def __init__(self, code: str, *, first: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code = code
        self.setWindowTitle("PlantML - recovery code")
        what = "the recovery code" if first else "the new recovery code (the old one is void)"
        intro = QLabel(
            f"This is {what}. Write it down or print it and keep it in the plant's safe: it "
            "is shown only this once, and it opens a locked or forgotten administrator "
            "account (Sign-in > Recover administrator).")
        intro.setWordWrap(True)
        self.code_label = QLabel(code)
        font = QFont("monospace")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(font.pointSize() + 4)
        self.code_label.setFont(font)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.code_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.written_box = QCheckBox("I have written down or printed the recovery code")
        self.print_button = QPushButton("Print…")
        self.print_button.clicked.connect(self.print_code)
        self.buttons = QDialogButtonBox()
        self.buttons.addButton(self.print_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Ok)
        self.close_button.setText("Done")
        self.close_button.setEnabled(False)
        self.close_button.clicked.connect(self.accept)
        self.written_box.toggled.connect(self.close_button.setEnabled)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.code_label)
        layout.addWidget(self.written_box)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(440)

    def print_code(self) -> None:
        """The system print dialog, then one page with the code."""
        # Imported here: QtPrintSupport is only loaded when someone prints.
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter()
        if QPrintDialog(printer, self).exec() != QDialog.DialogCode.Accepted:
            return
        doc = QTextDocument()
        doc.setPlainText(f"PlantML administrator recovery code\n\n{self.code}\n\n"
                         "Keep in the plant's safe. Used once; a new one is printed then.")
        doc.print_(printer)

    def reject(self) -> None:
        # Escape must not lose the only sight of the code before it was written down.
        if self.written_box.isChecked():
            super().reject()
