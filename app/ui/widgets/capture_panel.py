"""The Controllers page's capture panel: capture the selected controller's latest windows as a
dataset, list the captured windows with what the model proposed, and confirm, reject or
relabel them with a note (issue 12.1, 12.2), then train a challenger on them (12.4). Every
call runs on the task runner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QInputDialog,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.ui.challenger_rules import CaptureState, capture_state
from app.ui.permissions import may, refusal_text
from app.ui.styles import BAD_STYLE, NOTE_STYLE
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets.challenger_launcher import ChallengerLauncher, champion_of
from app.ui.widgets.job_controls import JobControls

COLUMNS = ("window", "time (UTC)", "proposed", "feedback")


class CapturePanel(QWidget):
    """A Capture button (windows to take), the captured windows, the verdict buttons and
    "Train challenger..." with its progress bar and Cancel; one message line for all."""

    sig_loaded = Signal(str)
    """The windows of a captured dataset are shown (its id)."""

    sig_feedback = Signal(object)
    """A verdict was recorded (the list of Feedback)."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 target: Callable[[], str | None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.principal, self.target = \
            services, runner, principal, target
        self.dataset_id: str | None = None
        self.capture_button = QPushButton("Capture")
        self.capture_button.clicked.connect(lambda *_a: self.capture())
        self.windows_box = QSpinBox()
        self.windows_box.setRange(1, 4096)
        self.windows_box.setValue(64)
        self.windows_box.setSuffix(" windows")
        # The challenger's progress, Cancel and outcome share the panel's message line.
        self.jobs = JobControls(runner)
        self.status_label = self.jobs.message_label
        self._note("no capture yet")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.confirm_button = QPushButton("Confirm")
        self.reject_button = QPushButton("Reject...")
        self.relabel_button = QPushButton("Relabel...")
        for button, verdict in ((self.confirm_button, "confirm"),
                                (self.reject_button, "reject"),
                                (self.relabel_button, "relabel")):
            button.clicked.connect(lambda *_a, v=verdict: self.give(v))
        self.challenger = ChallengerLauncher(services, principal, self.jobs, self)
        self.challenge_button = self.challenger.button
        self.jobs.sig_busy_changed.connect(lambda _busy: self.update_buttons())
        top = QHBoxLayout()
        top.addWidget(self.capture_button)
        top.addWidget(self.windows_box)
        top.addStretch(1)
        verdicts = QHBoxLayout()
        for b in (self.confirm_button, self.reject_button, self.relabel_button):
            verdicts.addWidget(b)
        verdicts.addStretch(1)
        verdicts.addWidget(self.challenge_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(verdicts)
        layout.addWidget(self.jobs)
        # Its own line, full width: a challenger's outcome is a whole sentence.
        layout.addWidget(self.status_label)
        self.table.itemSelectionChanged.connect(self.update_buttons)
        self.update_buttons()

    # -- what the user may press ------------------------------------------------------
    def update_buttons(self) -> None:
        can_capture = may(self.principal, Action.CONTROLLER_CAPTURE)
        self.capture_button.setEnabled(can_capture and self.target() is not None)
        self.capture_button.setToolTip("" if can_capture else refusal_text(
            self.principal, Action.CONTROLLER_CAPTURE, "Capturing"))
        can_judge = may(self.principal, Action.DATA_FEEDBACK)
        picked = bool(self.selected_windows())
        for b in (self.confirm_button, self.reject_button, self.relabel_button):
            b.setEnabled(can_judge and picked)
            b.setToolTip("" if can_judge else refusal_text(
                self.principal, Action.DATA_FEEDBACK, "Feedback"))
        self.challenger.update_button()

    def selected_windows(self) -> list[int]:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        out = []
        for row in rows:
            item = self.table.item(row, 0)
            if item is not None:
                out.append(int(item.text()))
        return out

    # -- capture ----------------------------------------------------------------------
    def capture(self) -> None:
        target = self.target()
        if target is None:
            return
        capture, who, n = self.services.controllers.capture, self.principal, \
            self.windows_box.value()
        self.capture_button.setEnabled(False)
        self._note(f"capturing {n} windows from {target}...")
        self.runner.submit(lambda progress, cancel: capture(who, target=target, windows=n,
                                                            progress=progress, cancel=cancel),
                           on_done=lambda info: self.show_dataset(info.dataset_id),
                           on_error=self._failed)

    def show_captured(self, _target: str, result: Any) -> None:
        """A watch poll arrived: show the capture a drift alarm made by itself, if any."""
        if getattr(result, "captured", None) is not None:
            self.show_dataset(result.captured.dataset_id)

    def show_dataset(self, dataset_id: str) -> None:
        """Load the windows of ``dataset_id`` and the verdicts given so far."""
        services, who = self.services, self.principal
        fb, trains = services.feedback, may(who, Action.MODEL_TRAIN)

        def load() -> tuple[list[Any], dict[int, Any], CaptureState | None]:
            windows = fb.windows(who, dataset=dataset_id)
            given = {f.window_id: f for f in fb.given(who, dataset=dataset_id)}
            state = None
            if trains:  # only who may train looks the champion up (no refusals audited)
                labels = services.datasets.show(who, dataset=dataset_id).labels
                state = capture_state(dataset_id, windows, (lb.recording for lb in labels),
                                      *champion_of(services, who, dataset_id))
            return windows, given, state
        self.runner.submit(load, on_done=lambda res: self._loaded(dataset_id, *res),
                           on_error=self._failed, writes=False)

    def _loaded(self, dataset_id: str, windows: list[Any], given: dict[int, Any],
                state: CaptureState | None = None) -> None:
        self.dataset_id = dataset_id
        self.challenger.show_capture(state)
        self.table.setRowCount(len(windows))
        for row, w in enumerate(windows):
            f = given.get(w.window_id)
            said = "" if f is None else f"{f.verdict} {f.label}".strip() + f" ({f.user})"
            for col, text in enumerate((str(w.window_id), w.time[:23], w.proposed, said)):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self._note(f"dataset {dataset_id[:12]}: {len(windows)} windows; a prediction is only "
                   "a proposed label until you confirm or relabel it")
        self.update_buttons()
        self.sig_loaded.emit(dataset_id)

    # -- feedback ---------------------------------------------------------------------
    def ask(self, title: str, prompt: str) -> str | None:
        """A line of text from the user (tests replace it); None when cancelled."""
        text, ok = QInputDialog.getText(self, title, prompt)
        return text.strip() if ok and text.strip() else None

    def give(self, verdict: str) -> None:
        ids, dataset = self.selected_windows(), self.dataset_id
        if not ids or dataset is None:
            return
        label = ""
        if verdict == "relabel":
            label = self.ask("Relabel", "The label these windows should have:") or ""
            if not label:
                return
        note = ""
        if verdict != "confirm":
            note = self.ask(verdict.capitalize(), "Why (audited):") or ""
            if not note:
                return
        give, who = self.services.feedback.give, self.principal

        def run() -> list[Any]:
            return [give(who, dataset=dataset, window=i, verdict=verdict, label=label,
                         note=note) for i in ids]

        def done(out: list[Any]) -> None:
            self.sig_feedback.emit(out)
            self.show_dataset(dataset)
        self.runner.submit(run, on_done=done, on_error=self._failed)

    def _note(self, text: str) -> None:
        self.jobs.show_message(text, NOTE_STYLE)

    def _failed(self, exc: BaseException) -> None:
        self.jobs.show_message(describe_error(exc), BAD_STYLE)
        self.update_buttons()
