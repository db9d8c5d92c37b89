"""Help > About PlantML: the bundled about text and the version."""

from __future__ import annotations

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

from app import __version__
from app.core.errors import StorageError
from app.core.resources import resource
from app.ui.look import icon
from app.ui.navigation import translate


def about_text() -> str:
    """resources/about.md with the version line first (Markdown)."""
    try:
        body = resource("about.md").read_text(encoding="utf-8")
    except (StorageError, OSError) as exc:
        body = f"The about text is not available: {exc}"
    return f"**PlantML {__version__}** (Qt for Python {pyside_version})\n\n{body}"


class AboutDialog(QDialog):
    """Logo, version and the about text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("MainWindow", "About PlantML"))
        logo = QLabel()
        logo.setPixmap(icon("plantml").pixmap(64, 64))
        self.text_label = QLabel()
        self.text_label.setObjectName("about-text")
        self.text_label.setTextFormat(Qt.TextFormat.MarkdownText)
        self.text_label.setText(about_text())
        self.text_label.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(logo)
        layout.addWidget(self.text_label, 1)
        layout.addWidget(buttons)
        self.setMinimumWidth(520)
