"""Help > Self-test (and the first start on a workstation): the installation's checks of
``plantml doctor``, run on the task runner, one line per check."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.look import icon
from app.ui.navigation import translate
from app.ui.styles import show_status
from app.ui.task_runner import TaskRunner, describe_error

log = logging.getLogger(__name__)


class SelfTestDialog(QDialog):
    """Runs the doctor's checks in the background and lists them as they came out: a green
    tick or a red cross, the check's name and what it saw. A failure is said in red above
    the list, naming the checks that failed."""

    sig_finished = Signal(object)
    """The checks ran; carries the list of doctor Checks."""

    def __init__(self, home: Path, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.home = home
        self.runner = runner
        self.checks: list = []
        self.running = False
        self.setWindowTitle(translate("MainWindow", "PlantML self-test"))
        self.summary_label = QLabel("")
        self.summary_label.setObjectName("selftest-summary")
        self.summary_label.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("selftest-lines")
        self.list.setWordWrap(True)
        self.again_button = QPushButton(translate("MainWindow", "Run again"))
        self.again_button.clicked.connect(self.start)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.again_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(translate("MainWindow",
                                          "Checks of this installation (as plantml doctor):")))
        layout.addWidget(self.summary_label)
        layout.addWidget(self.list, 1)
        layout.addWidget(buttons)
        self.resize(720, 360)

    def start(self) -> None:
        """Run every check (no database writes: the free lane)."""
        if self.running:
            return
        self.running = True
        self.again_button.setEnabled(False)
        self.list.clear()
        show_status(self.summary_label, translate("MainWindow", "running the checks…"), "")
        home = self.home
        # Qt is up in this process: what its probe would find out in a child, it knows.
        platform = f"platform plugin {QGuiApplication.platformName()} running " \
                   f"(Qt for Python {pyside_version})"

        def checks() -> list:
            from app.services.doctor import run_self_test  # its libraries load on demand

            return run_self_test(home, extra=(("Qt", lambda: platform),))

        self.runner.submit(checks, on_done=self._done, on_error=self._failed,
                           cancellable=False, writes=False)

    def lines(self) -> list[str]:
        """The lines shown, as ``plantml doctor`` prints them."""
        return [self.list.item(i).text() for i in range(self.list.count())]

    def _done(self, checks: list) -> None:
        self.running = False
        self.again_button.setEnabled(True)
        self.checks = list(checks)
        for check in checks:
            item = QListWidgetItem(icon("ok" if check.ok else "error"), check.line())
            item.setToolTip(check.detail)
            self.list.addItem(item)
        failed = [c.name for c in checks if not c.ok]
        if failed:
            advice = translate("MainWindow", "PlantML may not work as it should here; tell "
                               "whoever installed it.")
            show_status(self.summary_label, translate("MainWindow", "SELF-TEST FAILED:") + " "
                       + ", ".join(failed) + ". " + advice, "alarm")
            log.error("GUI self-test failed: %s", ", ".join(failed))
        else:
            show_status(self.summary_label, translate("MainWindow", "Every check passed."), "ok")
        self.sig_finished.emit(self.checks)

    def _failed(self, exc: BaseException) -> None:
        self.running = False
        self.again_button.setEnabled(True)
        show_status(self.summary_label, translate("MainWindow", "The self-test did not run:")
                   + " " + describe_error(exc), "alarm")
        self.sig_finished.emit([])
