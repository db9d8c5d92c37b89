"""Placeholder page for a part of PlantML that a later release fills in."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

#: The sentence every placeholder page shows.
COMING_TEXT = "coming in a later release"


class ComingView(QWidget):
    """Names the page, says it is coming in a later release and what it will do."""

    def __init__(self, title: str, description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.description = description
        self.setObjectName(f"coming_{title.lower()}")
        heading = QLabel(f"<h2>{html.escape(title)}</h2>")
        heading.setTextFormat(Qt.TextFormat.RichText)
        self.notice_label = QLabel(f"{title}: {COMING_TEXT}.")
        self.description_label = QLabel(description)
        self.description_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for label in (heading, self.notice_label, self.description_label):
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(label)
        layout.addStretch(2)

    def text(self) -> str:
        """Everything the page says, as plain text."""
        return f"{self.title}\n{self.notice_label.text()}\n{self.description_label.text()}"
