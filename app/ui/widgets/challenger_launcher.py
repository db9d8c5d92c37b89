"""The capture panel's "Train challenger..." (issue 12.4): the captured, labelled windows join
the champion's snapshot, a challenger is trained with its recipe on the task runner (progress,
Cancel), and the comparison opens beside the champion."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QPushButton, QWidget

from app.core.errors import PlantMLError
from app.core.lifecycle import State
from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.services.challenger import ChallengeOutcome
from app.ui.challenger_rules import CaptureState, challenge_rule
from app.ui.navigation import translate
from app.ui.permissions import apply_rules, may
from app.ui.styles import BAD_STYLE, GOOD_STYLE
from app.ui.task_runner import describe_error
from app.ui.widgets.challenger_report import ChallengerDialog, trained_sentence
from app.ui.widgets.job_controls import JobControls


def champion_of(services: Services, principal: Principal, dataset_id: str
                ) -> tuple[str, str | None]:
    """The version that classified the captured windows (the capture's provenance names what
    the controller ran) and why it cannot be the champion (None: it can). A read; call it off
    the GUI thread."""
    info = services.datasets.show(principal, dataset=dataset_id)
    ref = str((info.provenance or {}).get("model") or "")
    if not ref:
        return "", translate("MainWindow", "the controller ran no model when these windows "
                             "were captured, so there is no champion")
    try:
        version = services.registry.show(principal, ref=ref)
    except PlantMLError as exc:
        return ref, translate("MainWindow", "{0}, which the controller ran, cannot be read "
                              "here: {1}").format(ref, describe_error(exc))
    if version.kind != "classifier":
        return ref, translate("MainWindow", "{0} is a {1}; a challenger is trained against a "
                              "classifier only").format(ref, version.kind)
    return ref, None


class ChallengerLauncher(QObject):
    """``button`` trains a challenger to the shown capture's champion on ``jobs`` (the
    panel's progress bar, Cancel and message line); the result opens in ``dialog``."""

    sig_trained = Signal(object)
    """The ChallengeOutcome of a finished challenge."""

    sig_open_version = Signal(str)
    """The user asked to see the new version (its ref) on the Models page."""

    def __init__(self, services: Services, principal: Principal, jobs: JobControls,
                 parent: QWidget) -> None:
        super().__init__(parent)
        self.services, self.principal, self.jobs, self._parent = \
            services, principal, jobs, parent
        self.state: CaptureState | None = None
        self.dialog: ChallengerDialog | None = None
        self.button = QPushButton(translate("MainWindow", "Train challenger..."))
        self.button.clicked.connect(lambda *_a: self.start())
        self.update_button()

    def show_capture(self, state: CaptureState | None) -> None:
        """The panel shows another capture (or its labels changed)."""
        self.state = state
        self.update_button()

    def update_button(self) -> None:
        """Enabled for an engineer once the capture's runs carry labels and its champion is a
        registered classifier; the tooltip says why not."""
        apply_rules(self.principal, {self.button: challenge_rule(self.state, self.jobs.running)})

    def start(self) -> None:
        """Train the challenger in the background, with progress and Cancel."""
        state = self.state
        if state is None or not may(self.principal, Action.MODEL_TRAIN) or \
                challenge_rule(state, self.jobs.running)[3]() is not None:
            return
        challenge, who = self.services.challenger.challenge, self.principal
        champion, dataset = state.champion, state.dataset_id
        self.jobs.run(
            lambda progress, cancel: challenge(who, champion=champion, new_data=dataset,
                                               progress=progress, cancel=cancel),
            what=translate("MainWindow", "training a challenger to {0}").format(champion),
            label=translate("MainWindow", "training the challenger"),
            cancelled=translate("MainWindow", "training the challenger cancelled: no version "
                                "was registered"),
            on_done=self._trained, after_error=self.update_button)
        self.update_button()

    def _trained(self, outcome: ChallengeOutcome) -> None:
        self.jobs.show_message(trained_sentence(outcome),
                               GOOD_STYLE if outcome.trained.version.state ==
                               State.VALIDATED.value else BAD_STYLE)
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = ChallengerDialog(outcome, self._parent)
        self.dialog.sig_open_models.connect(self.sig_open_version)
        self.dialog.show()
        self.update_button()
        self.sig_trained.emit(outcome)
