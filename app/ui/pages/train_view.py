"""The Train page: pick a labelled dataset, features and model, train, read the evidence."""

from __future__ import annotations

import json
import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.core.records import DatasetInfo
from app.core.roles import Action
from app.services import Services
from app.services.recipes import MODELS, make_recipe
from app.ui.look import icon
from app.ui.permissions import refuse_unless_allowed
from app.ui.styles import BAD_STYLE, GOOD_STYLE
from app.ui.task_runner import TaskRunner
from app.ui.train_format import labels_summary, line_name_for
from app.ui.widgets.explain_panel import ExplainPanel
from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.page import Page
from app.ui.widgets.train_results import TrainResults

log = logging.getLogger(__name__)

SPLITS = {"time": "time order (per recording, with a gap)",
          "recording": "whole recordings"}

ID_ROLE = Qt.ItemDataRole.UserRole


class TrainView(Page):
    """Dataset, feature and model settings on the left; Train with progress and Cancel;
    the registered version's metrics, confusion matrix, permutation importance and parity
    verdict on the right. Training runs on the task runner."""

    sig_refreshed = Signal(int)
    """The dataset list was reloaded; carries the number of datasets."""

    sig_trained = Signal(object)
    """A version was registered; carries the service's TrainOutcome."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(services, runner, principal, parent)
        self.datasets: dict[str, DatasetInfo] = {}
        self.outcome = None
        self._wanted_id: str | None = None

        # ------------------------------------------------------------ settings
        self.dataset_combo = QComboBox()
        self.dataset_combo.setMinimumContentsLength(24)
        self.dataset_combo.currentIndexChanged.connect(self._dataset_changed)
        self.refresh_button = QPushButton(icon("refresh"), "Refresh")
        self.refresh_button.clicked.connect(self._refresh_clicked)
        self.labels_label = QLabel("")
        self.labels_label.setWordWrap(True)
        # A wrapped label in a form row does not get the height of its second line.
        self.labels_label.setMinimumHeight(2 * self.labels_label.fontMetrics().lineSpacing())
        self.window_spin = QSpinBox()
        self.window_spin.setRange(8, 1 << 20)
        self.window_spin.setValue(2048)
        self.window_spin.setSuffix(" samples")
        self.hop_spin = QSpinBox()
        self.hop_spin.setRange(1, 1 << 20)
        self.hop_spin.setValue(1024)
        self.hop_spin.setSuffix(" samples")
        self.channels_list = QListWidget()
        self.channels_list.setMaximumHeight(90)
        self.task_combo = QComboBox()
        self.task_combo.addItems(list(MODELS))
        self.task_combo.currentTextChanged.connect(self._task_changed)
        self.model_combo = QComboBox()
        self.params_edit = QLineEdit()
        self.params_edit.setPlaceholderText('defaults, or JSON e.g. {"n_estimators": 50}')
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.split_combo = QComboBox()
        for kind, text in SPLITS.items():
            self.split_combo.addItem(text, kind)
        self.test_fraction_spin = QDoubleSpinBox()
        self.test_fraction_spin.setRange(0.05, 0.95)
        self.test_fraction_spin.setSingleStep(0.05)
        self.test_fraction_spin.setValue(0.3)
        self.line_edit = QLineEdit()
        self.train_button = QPushButton(icon("train"), "Train")
        self.train_button.clicked.connect(self.train)
        self.jobs = JobControls(runner)
        self.jobs.sig_busy_changed.connect(lambda _busy: self._update_buttons())
        self.progress_bar = self.jobs.progress_bar
        self.cancel_button = self.jobs.cancel_button
        self.message_label = self.jobs.message_label
        self._task_changed(self.task_combo.currentText())

        data_box = QGroupBox("Data")
        data_form = QFormLayout(data_box)
        dataset_row = QHBoxLayout()
        dataset_row.addWidget(self.dataset_combo, 1)
        dataset_row.addWidget(self.refresh_button)
        data_form.addRow("Dataset", dataset_row)
        data_form.addRow("Labels", self.labels_label)
        feature_box = QGroupBox("Features")
        feature_form = QFormLayout(feature_box)
        feature_form.addRow("Window", self.window_spin)
        feature_form.addRow("Hop", self.hop_spin)
        feature_form.addRow("Channels", self.channels_list)
        model_box = QGroupBox("Model")
        model_form = QFormLayout(model_box)
        model_form.addRow("Task", self.task_combo)
        model_form.addRow("Model", self.model_combo)
        model_form.addRow("Parameters", self.params_edit)
        model_form.addRow("Seed", self.seed_spin)
        model_form.addRow("Split", self.split_combo)
        model_form.addRow("Test fraction", self.test_fraction_spin)
        model_form.addRow("Model line", self.line_edit)
        job_row = QHBoxLayout()
        job_row.addWidget(self.train_button)
        job_row.addWidget(self.jobs, 1)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        for box in (data_box, feature_box, model_box):
            left_layout.addWidget(box)
        left_layout.addLayout(job_row)
        left_layout.addWidget(self.message_label)
        left_layout.addStretch(1)

        # ------------------------------------------------------------ results
        self.results = TrainResults()
        self.version_label = self.results.version_label
        self.metrics_label = self.results.metrics_label
        self.parity_label = self.results.parity_label
        self.confusion_table = self.results.confusion_table
        self.explain_panel = ExplainPanel(services, runner, principal)
        self.results.result_tabs.addTab(self.explain_panel, "Explain a window")

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.results)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._update_buttons()

    # ---------------------------------------------------------------- datasets

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        # Every visit: the Data page may have added datasets or labels meanwhile.
        if not self.jobs.running:
            self.refresh()

    def refresh(self, select: str | None = None) -> None:
        """Reload the datasets in the background; keep or set the selection."""
        self._wanted_id = select or self.current_dataset_id()
        principal, listing = self.principal, self.services.datasets.list
        self.read_if_allowed(self.jobs, action=Action.DATA_READ, what="Viewing datasets",
                             button=self.refresh_button, fn=lambda: listing(principal),
                             on_done=self._listed)

    def _refresh_clicked(self, *_args: object) -> None:
        self.refresh()

    def _listed(self, datasets: list[DatasetInfo]) -> None:
        wanted = self._wanted_id
        self.datasets = {info.dataset_id: info for info in datasets}
        self.dataset_combo.blockSignals(True)
        try:
            self.dataset_combo.clear()
            for info in datasets:
                self.dataset_combo.addItem(f"{info.name} ({info.dataset_id[:12]})",
                                           info.dataset_id)
        finally:
            self.dataset_combo.blockSignals(False)
        self.sig_refreshed.emit(len(datasets))
        if not datasets:
            self._dataset_changed(-1)
        elif not (wanted and self.select_dataset(wanted)):
            self.dataset_combo.setCurrentIndex(0)
            self._dataset_changed(0)

    def current_dataset_id(self) -> str | None:
        """Id of the chosen dataset, or None."""
        value = self.dataset_combo.currentData()
        return str(value) if value else None

    def select_dataset(self, dataset_id: str) -> bool:
        """Choose a listed dataset by id; False if it is not listed."""
        index = self.dataset_combo.findData(dataset_id)
        if index < 0:
            return False
        self.dataset_combo.setCurrentIndex(index)
        self._dataset_changed(index)
        return True

    def _dataset_changed(self, _index: int) -> None:
        info = self.datasets.get(self.current_dataset_id() or "")
        self.channels_list.clear()
        if info is None:
            self.labels_label.setText("no datasets yet: import or record one on the Data page"
                                      if not self.datasets else "")
            self._update_buttons()
            return
        self.labels_label.setText(labels_summary(info))
        for i, channel in enumerate(info.channels):
            item = QListWidgetItem(channel.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if i == 0 else Qt.CheckState.Unchecked)
            self.channels_list.addItem(item)
        self.line_edit.setPlaceholderText(line_name_for(info.name))
        self._update_buttons()

    def checked_channels(self) -> list[str]:
        """Channels ticked for feature extraction."""
        return [self.channels_list.item(i).text() for i in range(self.channels_list.count())
                if self.channels_list.item(i).checkState() == Qt.CheckState.Checked]

    def set_channels(self, names: list[str]) -> None:
        """Tick exactly ``names``."""
        for i in range(self.channels_list.count()):
            item = self.channels_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in names
                               else Qt.CheckState.Unchecked)

    def _task_changed(self, task: str) -> None:
        self.model_combo.clear()
        self.model_combo.addItems(list(MODELS.get(task, ())))

    # ---------------------------------------------------------------- training

    def train(self, *_args: object) -> None:
        """Train with the settings shown; progress and Cancel below the button."""
        if self.jobs.running:
            return
        dataset = self.current_dataset_id()
        info = self.datasets.get(dataset or "")
        if dataset is None or info is None:
            self.jobs.show_message("choose a dataset first", BAD_STYLE)
            return
        channels = self.checked_channels()
        if not channels:
            self.jobs.show_message("tick at least one channel", BAD_STYLE)
            return
        try:
            params = json.loads(self.params_edit.text()) if self.params_edit.text().strip() \
                else {}
        except ValueError as exc:
            self.jobs.show_message(f"the parameters are not valid JSON: {exc}", BAD_STYLE)
            return
        if not isinstance(params, dict):
            self.jobs.show_message('the parameters must be a JSON object, e.g. {"max_depth": 5}',
                               BAD_STYLE)
            return
        settings = {"task": self.task_combo.currentText(),
                    "model": self.model_combo.currentText(), "params": params,
                    "seed": int(self.seed_spin.value()),
                    "split": str(self.split_combo.currentData()),
                    "test_fraction": float(self.test_fraction_spin.value())}
        line = self.line_edit.text().strip() or line_name_for(info.name)
        window, hop = int(self.window_spin.value()), int(self.hop_spin.value())
        principal, training = self.principal, self.services.training.train

        def run(progress, cancel):
            recipe = make_recipe(**settings)  # a refused setting reaches on_error
            return training(principal, dataset=dataset, line=line, recipe=recipe,
                            window=window, hop=hop, channels=channels, progress=progress,
                            cancel=cancel)

        self.jobs.run(run, what=f"training {line}", label="training",
                      cancelled="training cancelled: no version was registered",
                      on_done=self._trained)

    def cancel_job(self) -> None:
        """Ask the running training to stop; no version is registered then."""
        self.jobs.cancel()

    @property
    def job_running(self) -> bool:
        """True while a training runs."""
        return self.jobs.running

    def _trained(self, outcome) -> None:
        self.outcome = outcome
        self.show_result(outcome.version, outcome.validation, outcome.parity)
        info = self.datasets.get(outcome.version.dataset_id)
        if info is not None:
            self.explain_panel.set_target(outcome.version.ref, info,
                                          int(outcome.version.feature_spec["window"]))
        self.jobs.show_message(f"registered {outcome.version.ref}", GOOD_STYLE)
        self.sig_trained.emit(outcome)

    # ---------------------------------------------------------------- results

    def show_result(self, version, validation: dict, parity: dict) -> None:
        """Show a registered version with its validation and parity reports."""
        self.results.show_result(version, validation, parity)

    def confusion(self) -> list[list[int]]:
        """The confusion matrix shown (rows: truth), as numbers."""
        return self.results.confusion()

    def importance_shown(self) -> list[tuple[str, float]]:
        """The features in the importance chart, top first, with their mean drop."""
        return self.results.importance_shown()

    # ---------------------------------------------------------------- buttons

    def _update_buttons(self) -> None:
        if refuse_unless_allowed(self.train_button, self.principal, Action.MODEL_TRAIN,
                                 "Training"):
            return
        ready = not self.jobs.running and self.current_dataset_id() is not None
        self.train_button.setEnabled(ready)
        self.train_button.setToolTip("" if ready else "choose a dataset first")
