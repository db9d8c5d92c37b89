"""Help > User guide: the bundled guide (resources/guide/user-guide.md), offline, no browser."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from app.core.errors import StorageError
from app.core.resources import resource
from app.ui.navigation import translate


def guide_text() -> str:
    """The user guide as Markdown, or one sentence saying it is missing."""
    try:
        return resource("guide", "user-guide.md").read_text(encoding="utf-8")
    except (StorageError, OSError) as exc:
        return f"The user guide is not available: {exc}"


class GuideDialog(QDialog):
    """The guide in a text browser; links to its own headings work, nothing opens outside."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(translate("MainWindow", "PlantML user guide"))
        self.browser = QTextBrowser()
        self.browser.setObjectName("guide")
        self.browser.setOpenExternalLinks(False)
        self.browser.setMarkdown(guide_text())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser, 1)
        layout.addWidget(buttons)
        self.resize(820, 640)
