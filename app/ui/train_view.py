"""The Train page: pick a labelled dataset, features and model, train, read the evidence."""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import Cancelled
from app.core.principal import Principal
from app.core.records import DatasetInfo
from app.core.roles import Action
from app.services import Services
from app.services.recipes import MODELS, make_recipe
from app.ui.permissions import may, refusal_text
from app.ui.task_runner import TaskHandle, TaskRunner, describe_error

log = logging.getLogger(__name__)

GOOD_STYLE = "color: #1b5e20; font-weight: bold;"
BAD_STYLE = "color: #b00020; font-weight: bold;"
NOTE_STYLE = "color: #555555;"

SPLITS = {"time": "time order (per recording, with a gap)",
          "recording": "whole recordings"}

#: Features shown in the importance chart (the largest mean drops).
TOP_FEATURES = 15

ID_ROLE = Qt.ItemDataRole.UserRole


class TrainView(QWidget):
    """Dataset, feature and model settings on the left; Train with progress and Cancel;
    the registered version's metrics, confusion matrix, permutation importance and parity
    verdict on the right. Training runs on the task runner."""

    sig_refreshed = Signal(int)
    """The dataset list was reloaded; carries the number of datasets."""

    sig_trained = Signal(object)
    """A version was registered; carries the service's TrainOutcome."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.principal = principal
        self.datasets: dict[str, DatasetInfo] = {}
        self.outcome = None
        self._job: TaskHandle | None = None
        self._wanted_id: str | None = None

        # ------------------------------------------------------------ settings
        self.dataset_combo = QComboBox()
        self.dataset_combo.setMinimumContentsLength(24)
        self.dataset_combo.currentIndexChanged.connect(self._dataset_changed)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self._refresh_clicked)
        self.labels_label = QLabel("")
        self.labels_label.setWordWrap(True)
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
        self.train_button = QPushButton("Train")
        self.train_button.clicked.connect(self.train)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel_job)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setVisible(False)
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
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
        job_row.addWidget(self.progress_bar, 1)
        job_row.addWidget(self.cancel_button)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        for box in (data_box, feature_box, model_box):
            left_layout.addWidget(box)
        left_layout.addLayout(job_row)
        left_layout.addWidget(self.message_label)
        left_layout.addStretch(1)

        # ------------------------------------------------------------ results
        self.version_label = QLabel("No training run yet")
        self.version_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.version_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.version_label.setFont(font)
        self.metrics_label = QLabel("")
        self.metrics_label.setWordWrap(True)
        self.metrics_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.parity_label = QLabel("")
        self.parity_label.setWordWrap(True)
        self.confusion_table = QTableWidget(0, 0)
        self.confusion_table.setObjectName("confusion_table")
        self.confusion_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.confusion_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.Stretch)
        self.importance_plot = pg.PlotWidget()
        self.importance_plot.setMenuEnabled(False)
        self.importance_plot.setLabel("bottom", "mean score drop when shuffled")
        self.importance_plot.setMouseEnabled(x=False, y=False)
        self.importance_bars: pg.BarGraphItem | None = None
        self._importance: list[tuple[str, float]] = []
        self.result_tabs = QTabWidget()
        confusion_page = QWidget()
        confusion_layout = QVBoxLayout(confusion_page)
        confusion_layout.addWidget(QLabel("Rows: true class; columns: predicted class "
                                          "(held-out windows)"))
        confusion_layout.addWidget(self.confusion_table, 1)
        self.result_tabs.addTab(confusion_page, "Confusion matrix")
        self.importance_note = QLabel("")
        self.importance_note.setWordWrap(True)
        importance_page = QWidget()
        importance_layout = QVBoxLayout(importance_page)
        importance_layout.addWidget(self.importance_note)
        importance_layout.addWidget(self.importance_plot, 1)
        self.result_tabs.addTab(importance_page, "Permutation importance")
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.version_label)
        right_layout.addWidget(self.metrics_label)
        right_layout.addWidget(self.parity_label)
        right_layout.addWidget(self.result_tabs, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self._update_buttons()

    # ---------------------------------------------------------------- datasets

    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        # Every visit: the Data page may have added datasets or labels meanwhile.
        if self._job is None:
            self.refresh()

    def refresh(self, select: str | None = None) -> None:
        """Reload the datasets in the background; keep or set the selection."""
        self._wanted_id = select or self.current_dataset_id()
        if not may(self.principal, Action.DATA_READ):
            self.refresh_button.setEnabled(False)
            self._show_message(refusal_text(self.principal, Action.DATA_READ,
                                            "Viewing datasets"), NOTE_STYLE)
            return
        principal, listing = self.principal, self.services.datasets.list
        self.refresh_button.setEnabled(False)
        self.runner.submit(lambda: listing(principal), on_done=self._listed,
                           on_error=self._list_failed, cancellable=False)

    def _refresh_clicked(self, *_args: object) -> None:
        self.refresh()

    def _listed(self, datasets: list[DatasetInfo]) -> None:
        self.refresh_button.setEnabled(True)
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

    def _list_failed(self, exc: BaseException) -> None:
        self.refresh_button.setEnabled(True)
        self._show_message(describe_error(exc), BAD_STYLE)

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
        if self._job is not None:
            return
        dataset = self.current_dataset_id()
        info = self.datasets.get(dataset or "")
        if dataset is None or info is None:
            self._show_message("choose a dataset first", BAD_STYLE)
            return
        channels = self.checked_channels()
        if not channels:
            self._show_message("tick at least one channel", BAD_STYLE)
            return
        try:
            params = json.loads(self.params_edit.text()) if self.params_edit.text().strip() \
                else {}
        except ValueError as exc:
            self._show_message(f"the parameters are not valid JSON: {exc}", BAD_STYLE)
            return
        if not isinstance(params, dict):
            self._show_message('the parameters must be a JSON object, e.g. {"max_depth": 5}',
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

        self._start_job(f"training {line}")
        self._job = self.runner.submit(run, on_done=self._trained, on_error=self._failed,
                                       on_progress=self._progress)

    def cancel_job(self) -> None:
        """Ask the running training to stop; no version is registered then."""
        if self._job is not None:
            self._job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_bar.setFormat("cancelling...")

    @property
    def job_running(self) -> bool:
        """True while a training runs."""
        return self._job is not None

    def _trained(self, outcome) -> None:
        self._end_job()
        self.outcome = outcome
        self.show_result(outcome.version, outcome.validation, outcome.parity)
        self._show_message(f"registered {outcome.version.ref}", GOOD_STYLE)
        self.sig_trained.emit(outcome)

    def _failed(self, exc: BaseException) -> None:
        self._end_job()
        if isinstance(exc, Cancelled):
            self._show_message("training cancelled: no version was registered", NOTE_STYLE)
        else:
            self._show_message(f"training failed: {describe_error(exc)}", BAD_STYLE)

    # ---------------------------------------------------------------- results

    def show_result(self, version, validation: dict, parity: dict) -> None:
        """Show a registered version with its validation and parity reports."""
        self.version_label.setText(f"{version.ref}  ({version.kind}, {version.state})")
        self.metrics_label.setText(metrics_text(validation))
        if parity.get("deployable"):
            agreement = parity.get("label_agreement")
            extra = f", label agreement {agreement:.2%}" if agreement is not None else ""
            self.parity_label.setText(f"Parity gate: passed on {parity.get('n_windows', 0)} "
                                      f"held-out windows{extra}: deployable")
            self.parity_label.setStyleSheet(GOOD_STYLE)
        else:
            reasons = "; ".join(parity.get("reasons") or ["no reason given"])
            self.parity_label.setText(f"Parity gate: FAILED, not deployable: {reasons}")
            self.parity_label.setStyleSheet(BAD_STYLE)
        metrics = validation.get("metrics", {})
        self._show_confusion(metrics.get("classes") or [], metrics.get("confusion") or [])
        self._show_importance(validation.get("importance") or {})

    def confusion(self) -> list[list[int]]:
        """The confusion matrix shown (rows: truth), as numbers."""
        return [[int(self.confusion_table.item(r, c).text())
                 for c in range(self.confusion_table.columnCount())]
                for r in range(self.confusion_table.rowCount())]

    def _show_confusion(self, classes: list[str], matrix: list[list[int]]) -> None:
        n = len(matrix)
        self.confusion_table.clear()
        self.confusion_table.setRowCount(n)
        self.confusion_table.setColumnCount(n)
        if not n:
            return
        names = [str(c) for c in classes] if len(classes) == n else [str(i) for i in range(n)]
        self.confusion_table.setHorizontalHeaderLabels(names)
        self.confusion_table.setVerticalHeaderLabels(names)
        for r, row in enumerate(matrix):
            total = sum(row) or 1
            for c, count in enumerate(row):
                item = QTableWidgetItem(str(int(count)))
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                share = count / total
                colour = QColor(27, 94, 32) if r == c else QColor(176, 0, 32)
                colour.setAlphaF(0.15 + 0.6 * share if count else 0.0)
                item.setBackground(QBrush(colour))
                item.setToolTip(f"true {names[r]}, predicted {names[c]}: {count} "
                                f"({share:.0%} of {names[r]})")
                self.confusion_table.setItem(r, c, item)

    def importance_shown(self) -> list[tuple[str, float]]:
        """The features in the importance chart, top first, with their mean drop."""
        return list(self._importance)

    def _show_importance(self, importance: dict) -> None:
        if self.importance_bars is not None:
            self.importance_plot.removeItem(self.importance_bars)
            self.importance_bars = None
        mean = importance.get("mean") or {}
        top = sorted(((str(k), float(v)) for k, v in mean.items()
                      if isinstance(v, int | float) and math.isfinite(v)),
                     key=lambda kv: -abs(kv[1]))[:TOP_FEATURES]
        self._importance = top
        axis = self.importance_plot.getAxis("left")
        if not top:
            axis.setTicks(None)
            self.importance_note.setText("no permutation importance in the report")
            return
        y = np.arange(len(top))[::-1].astype(float)  # the largest on top
        widths = np.array([v for _, v in top])
        self.importance_bars = pg.BarGraphItem(x0=np.minimum(widths, 0.0), y=y, height=0.7,
                                               width=np.abs(widths), brush="#1565c0")
        self.importance_plot.addItem(self.importance_bars)
        axis.setTicks([[(float(y[i]), name) for i, (name, _) in enumerate(top)], []])
        self.importance_plot.setYRange(-0.6, len(top) - 0.4, padding=0.0)
        largest = float(np.max(np.abs(widths)))
        scoring = importance.get("scoring", "score")
        repeats = importance.get("n_repeats", "?")
        note = (f"Mean drop of the {scoring} on held-out windows when one feature is "
                f"shuffled ({repeats} repeats); the {len(top)} largest of {len(mean)}.")
        if largest < 1e-12:
            # Nothing to scale to: keep a readable axis and say what zero means.
            largest = 1.0
            note += (" No single feature matters on its own: the model gets the same "
                     "information from others (correlated features).")
        self.importance_plot.setXRange(min(0.0, float(widths.min())), largest, padding=0.05)
        self.importance_note.setText(note)

    # ---------------------------------------------------------------- plumbing

    def _start_job(self, what: str) -> None:
        self.train_button.setEnabled(False)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(f"{what} (%p%)")
        self.progress_bar.setVisible(True)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setVisible(True)
        self._show_message("", NOTE_STYLE)

    def _progress(self, fraction: float, message: str) -> None:
        if self._job is None or self._job.cancelled:
            return
        self.progress_bar.setValue(round(max(0.0, min(1.0, fraction)) * 1000))
        self.progress_bar.setFormat(f"{message} (%p%)")

    def _end_job(self) -> None:
        self._job = None
        self.progress_bar.setVisible(False)
        self.cancel_button.setVisible(False)
        self._update_buttons()

    def _update_buttons(self) -> None:
        if not may(self.principal, Action.MODEL_TRAIN):
            self.train_button.setEnabled(False)
            self.train_button.setToolTip(refusal_text(self.principal, Action.MODEL_TRAIN,
                                                      "Training"))
            return
        ready = self._job is None and self.current_dataset_id() is not None
        self.train_button.setEnabled(ready)
        self.train_button.setToolTip("" if ready else "choose a dataset first")

    def _show_message(self, text: str, style: str) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet(style)


def labels_summary(info: DatasetInfo) -> str:
    """How the dataset's recordings are labelled, as training sees it (the newest
    whole-recording label of each recording)."""
    whole: dict[int, str] = {}
    ranges = 0
    for lb in info.labels:
        if lb.t_start is None:
            whole[lb.recording] = lb.label
        else:
            ranges += 1
    counts = Counter(whole.values())
    n = len(info.recordings)
    parts = [f"{n} recording{'s' if n != 1 else ''}"]
    if counts:
        parts.append(", ".join(f"{label} x{k}" for label, k in sorted(counts.items())))
    unlabelled = n - len(whole)
    if unlabelled:
        parts.append(f"{unlabelled} unlabelled (label them on the Data page before "
                     "training)")
    if ranges:
        parts.append(f"{ranges} time-range label{'s' if ranges != 1 else ''} (shown, not "
                     "used for training)")
    return "; ".join(parts)


def line_name_for(name: str) -> str:
    """A valid model line name from a dataset name: ``Pump 3 (east)`` -> ``pump-3-east``."""
    slug = re.sub(r"[^a-z0-9_.-]+", "-", name.strip().lower()).strip("-._")
    return slug[:100] or "model"


def metrics_text(validation: dict) -> str:
    """Headline metrics of a validation report, one line each."""
    metrics = validation.get("metrics", {})
    lines = [f"{validation.get('task', '')} with {validation.get('model', '')}: "
             f"{validation.get('n_train', 0)} training and {validation.get('n_test', 0)} "
             "held-out windows"]
    for key, value in metrics.items():
        if isinstance(value, bool) or key in ("classes", "confusion"):
            continue
        if isinstance(value, float):
            lines.append(f"{key.replace('_', ' ')}: {value:.4g}")
        elif isinstance(value, int) or value is None:
            lines.append(f"{key.replace('_', ' ')}: {'n/a' if value is None else value}")
        elif isinstance(value, dict):
            lines.append(f"{key.replace('_', ' ')}: " + ", ".join(
                f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}"
                for k, v in value.items()))
    return "\n".join(lines)
