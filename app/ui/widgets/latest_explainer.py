"""Explain the newest window a controller classified (issue 12.3): a button for the Controllers
page and the window with the bars beside the spectrum (a read, on the free lane)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QDialog, QPushButton, QVBoxLayout, QWidget

from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.services.explanations import WindowExplanation
from app.ui.permissions import may, refusal_text
from app.ui.styles import BAD_STYLE
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets.explanation_view import ExplanationView


class LatestExplainer(QObject):
    """``button`` explains the newest window of the controller ``target()`` names; the
    result opens in ``dialog`` (kept, so a second press refreshes it)."""

    sig_explained = Signal(object)
    """The WindowExplanation shown."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 target: Callable[[], str | None], show_message: Callable[[str, str], None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._parent, self._target, self._say = parent, target, show_message
        self.runner, self.services, self.principal = runner, services, principal
        self.button = QPushButton("Explain latest window")
        self.button.setToolTip("Which features moved the controller's newest prediction, "
                               "beside that window's spectrum")
        self.button.clicked.connect(self.explain)
        self.dialog: QDialog | None = None
        self.view: ExplanationView | None = None

    def update_button(self, target: str | None) -> None:
        """Enable the button once ``target`` (the selected controller) answered, for a role
        that may watch controllers and read models; the tooltip names the role needed."""
        missing = next((a for a in (Action.CONTROLLER_WATCH, Action.MODEL_READ)
                        if not may(self.principal, a)), None)
        self.button.setEnabled(missing is None and target is not None)
        self.button.setToolTip("" if missing is None else refusal_text(
            self.principal, missing, "Explaining a prediction"))

    def explain(self, *_args: object) -> None:
        """Read and explain the selected controller's newest window."""
        target = self._target()
        if target is None:
            return
        explain, principal = self.services.explanations.explain_controller, self.principal
        self.button.setEnabled(False)
        self.runner.submit(lambda: explain(principal, target=target),
                           on_done=self._explained, on_error=self._failed,
                           cancellable=False, writes=False)

    def _explained(self, result: WindowExplanation) -> None:
        self.button.setEnabled(True)
        if self.dialog is None or self.view is None:
            self.dialog = QDialog(self._parent)
            self.dialog.resize(1000, 520)
            self.view = ExplanationView(self.dialog)
            QVBoxLayout(self.dialog).addWidget(self.view)
        self.dialog.setWindowTitle(f"Newest window of {result.ref}")
        self.view.show_result(result)
        self.dialog.show()
        self.sig_explained.emit(result)

    def _failed(self, exc: BaseException) -> None:
        self.button.setEnabled(True)
        self._say(f"explaining failed: {describe_error(exc)}", BAD_STYLE)
