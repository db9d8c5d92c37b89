"""The small window shown while closing waits for a running job to notice its cancellation."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QProgressBar, QVBoxLayout, QWidget

from app.ui.navigation import translate


class StoppingNotice(QWidget):
    """"Stopping the job…" with a busy bar; it cannot be closed by hand, only by
    :meth:`finish` once the jobs have stopped (a job must not be abandoned halfway through a
    database write)."""

    def __init__(self, jobs: int, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window | Qt.WindowType.CustomizeWindowHint
                         | Qt.WindowType.WindowTitleHint)
        self.setObjectName("stopping-notice")
        self.setWindowTitle("PlantML")
        self._may_close = False
        what = (translate("MainWindow", "Stopping the job…") if jobs <= 1 else
                translate("MainWindow", "Stopping the jobs…"))
        self.message_label = QLabel(what)
        self.message_label.setObjectName("header-title")
        self.detail_label = QLabel(translate(
            "MainWindow", "The job was asked to stop; PlantML closes as soon as it has. "
            "Nothing it finished is lost."))
        self.detail_label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 16, 20, 16)
        layout.addWidget(self.message_label)
        layout.addWidget(self.detail_label)
        layout.addWidget(self.bar)
        self.setFixedWidth(380)

    def finish(self) -> None:
        """The jobs have stopped: close for good."""
        self._may_close = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if self._may_close:
            event.accept()
        else:
            event.ignore()
