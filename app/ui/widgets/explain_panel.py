"""Explain one window of the trained version: pick a recording and a start, see which features
moved the prediction, beside the window's spectrum (runs on the task runner's free lane)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.core.records import DatasetInfo
from app.core.roles import Action
from app.services import Services
from app.services.explanations import WindowExplanation
from app.ui.task_runner import TaskRunner
from app.ui.widgets.explanation_view import ExplanationView
from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.page import Page


class ExplainPanel(Page):
    """Recording, window start (seconds) and Explain above the explanation view."""

    sig_explained = Signal(object)
    """The WindowExplanation shown (tests and the page wait on it)."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, parent)
        self.ref: str | None = None
        self.dataset: DatasetInfo | None = None
        self._window = 0
        self.recording_combo = QComboBox()
        self.start_spin = QSpinBox()
        self.start_spin.setSuffix(" samples")
        self.start_spin.setToolTip("first sample of the window explained")
        self.explain_button = QPushButton("Explain")
        self.explain_button.setToolTip("Which features moved this window's prediction")
        self.explain_button.clicked.connect(self.explain)
        self.explain_button.setEnabled(False)
        self.recording_combo.currentIndexChanged.connect(self._recording_changed)
        self.jobs = JobControls(runner, self)
        self.view = ExplanationView()
        row = QHBoxLayout()
        row.addWidget(QLabel("Recording"))
        row.addWidget(self.recording_combo, 1)
        row.addWidget(QLabel("window from"))
        row.addWidget(self.start_spin)
        row.addWidget(self.explain_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.jobs.message_label)
        layout.addWidget(self.view, 1)

    def set_target(self, ref: str, dataset: DatasetInfo, window: int) -> None:
        """Explain windows of ``ref`` (``window`` samples long) on ``dataset``'s recordings."""
        self.ref, self.dataset, self._window = ref, dataset, window
        self.recording_combo.blockSignals(True)
        self.recording_combo.clear()
        for rec in dataset.recordings:
            self.recording_combo.addItem(f"{rec.index}: {rec.name}", rec.index)
        self.recording_combo.blockSignals(False)
        self._recording_changed(0)
        self.explain_button.setEnabled(dataset.recordings != ())

    def _recording_changed(self, _index: int) -> None:
        if self.dataset is None or self.recording_combo.currentIndex() < 0:
            return
        rec = self.dataset.recordings[self.recording_combo.currentIndex()]
        self.start_spin.setRange(0, max(0, rec.n_samples - self._window))
        self.start_spin.setSingleStep(self._window)

    def explain(self, *_args: object) -> None:
        """Explain the chosen window (a read: the free lane, the button greyed meanwhile)."""
        if self.ref is None or self.dataset is None:
            return
        ref, dataset = self.ref, self.dataset.dataset_id
        recording = str(self.recording_combo.currentData())
        start = int(self.start_spin.value())
        principal, service = self.principal, self.services.explanations

        def run() -> WindowExplanation:
            return service.explain_recording(principal, ref=ref, dataset=dataset,
                                             recording=recording, start=start)

        self.read_if_allowed(self.jobs, action=Action.MODEL_READ, what="Explaining",
                             button=self.explain_button, fn=run, on_done=self._explained)

    def _explained(self, result: WindowExplanation) -> None:
        self.jobs.show_message("", "")
        self.view.show_result(result)
        self.sig_explained.emit(result)
