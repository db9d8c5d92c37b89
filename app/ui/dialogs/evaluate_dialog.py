"""Evaluate a model version on a labelled dataset: pick it, run with progress and Cancel, read
the score, the invalid-input windows and the confusion matrix as tables."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.core.records import DatasetInfo
from app.services import Services
from app.ui.styles import GOOD_STYLE, NOTE_STYLE, WARN_STYLE
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.table_text import table_rows


def score_line(result: dict[str, Any]) -> str:
    """"pump:v1 on 3f2a…: 20 windows, accuracy 94.4 % on the 18 valid windows"."""
    valid = result["valid_windows"]
    if result.get("accuracy") is not None:
        score = f"accuracy {100 * result['accuracy']:.1f} % on the {valid} valid windows"
    elif result.get("mae") is not None:
        score = f"mean absolute error {result['mae']:.4g} on the {valid} valid windows"
    else:
        score = "no valid window to score"
    n = result["windows"]
    return (f"{result['ref']} on dataset {str(result['dataset'])[:12]}: {n} "
            f"window{'s' if n != 1 else ''}, {score}")


def invalid_line(result: dict[str, Any]) -> str:
    """What the invalid-input table holds, or that there is none."""
    n = result["invalid_windows"]
    if not n:
        return "no window was invalid input"
    return (f"{n} window{'s' if n != 1 else ''} {'are' if n != 1 else 'is'} invalid input: a "
            "sensor or data fault, not a machine state, kept out of the score")


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    return table


def _fit_height(table: QTableWidget) -> None:
    """Make ``table`` exactly as tall as its rows, so no short table hides one behind a
    scroll bar."""
    table.resizeRowsToContents()
    height = table.horizontalHeader().height() + 2 * table.frameWidth()
    height += sum(table.rowHeight(r) for r in range(table.rowCount()))
    scroll = table.horizontalScrollBar()
    if scroll is not None and scroll.isVisible():
        height += scroll.height()
    table.setFixedHeight(height)


class EvaluateDialog(QDialog):
    """Lists the datasets the user may read; Evaluate runs the version's stored ONNX model
    on every window of the chosen one (as the controller would), on the task runner with
    progress and Cancel. The service audits each evaluation."""

    sig_datasets_loaded = Signal(int)
    """The dataset list arrived; carries how many are offered."""

    sig_evaluated = Signal(object)
    """An evaluation finished; carries the service's result dict."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal, ref: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services, self.runner, self.principal, self.ref = services, runner, principal, ref
        self.outcome: dict[str, Any] | None = None
        self.setWindowTitle(f"Evaluate {ref}")

        self.dataset_combo = QComboBox()
        self.dataset_combo.setMinimumContentsLength(40)
        self.evaluate_button = QPushButton("Evaluate")
        self.evaluate_button.setDefault(True)
        self.evaluate_button.setEnabled(False)
        self.evaluate_button.clicked.connect(self.evaluate)
        self.jobs = JobControls(runner)
        self.jobs.sig_busy_changed.connect(self._busy_changed)
        self.message_label = self.jobs.message_label

        self.score_label = QLabel("")
        self.score_label.setWordWrap(True)
        self.score_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.invalid_label = QLabel("")
        self.invalid_label.setWordWrap(True)
        self.invalid_table = _table(["Invalid input", "Windows"])
        self.invalid_table.verticalHeader().setVisible(False)
        self.invalid_table.horizontalHeader().setStretchLastSection(False)
        self.invalid_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch)
        self.left_out_label = QLabel("")
        self.left_out_label.setWordWrap(True)
        self.confusion_label = QLabel("")
        self.confusion_table = _table([])
        for widget in (self.invalid_table, self.confusion_table):
            widget.setVisible(False)

        buttons = QDialogButtonBox()
        buttons.addButton(self.evaluate_button, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        if close is not None:
            close.clicked.connect(self.reject)

        form = QFormLayout()
        form.addRow("Dataset", self.dataset_combo)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"Run the stored ONNX model of {ref} on every window of a "
                                "labelled dataset."))
        layout.addLayout(form)
        layout.addWidget(self.jobs)
        layout.addWidget(self.message_label)
        layout.addWidget(self.score_label)
        layout.addWidget(self.invalid_label)
        layout.addWidget(self.invalid_table)
        layout.addWidget(self.left_out_label)
        layout.addWidget(self.confusion_label)
        layout.addWidget(self.confusion_table)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.setMinimumWidth(760)
        self._load_datasets()

    # ---------------------------------------------------------------- datasets

    def _load_datasets(self) -> None:
        datasets, principal = self.services.datasets, self.principal
        self.jobs.show_message("listing the datasets...", NOTE_STYLE)
        self.runner.submit(lambda: datasets.list(principal), on_done=self._listed,
                           on_error=lambda exc: self.jobs.show_message(
                               f"the datasets could not be listed: {describe_error(exc)}",
                               WARN_STYLE),
                           cancellable=False, writes=False)

    def _listed(self, infos: list[DatasetInfo]) -> None:
        labelled = [i for i in infos if any(r.label for r in i.recordings) or i.labels]
        for info in labelled:
            n = len(info.recordings)
            self.dataset_combo.addItem(
                f"{info.name}  ({info.dataset_id[:12]}, {n} recording{'s' if n != 1 else ''})",
                info.dataset_id)
        self.jobs.show_message("" if labelled else "no labelled dataset yet: label one on the "
                               "Data page first", NOTE_STYLE)
        self.evaluate_button.setEnabled(bool(labelled))
        self.sig_datasets_loaded.emit(len(labelled))

    def dataset_ids(self) -> list[str]:
        """The dataset ids offered, in order."""
        return [str(self.dataset_combo.itemData(i)) for i in range(self.dataset_combo.count())]

    def choose(self, dataset_id: str) -> bool:
        """Pick the dataset ``dataset_id``; False if it is not offered."""
        index = self.dataset_combo.findData(dataset_id)
        if index >= 0:
            self.dataset_combo.setCurrentIndex(index)
        return index >= 0

    # ---------------------------------------------------------------- evaluation

    def evaluate(self) -> None:
        """Evaluate on the chosen dataset in the background."""
        dataset = self.dataset_combo.currentData()
        if self.jobs.running or not dataset:
            return
        evaluate, principal, ref = self.services.training.evaluate, self.principal, self.ref
        self._clear()
        self.jobs.run(lambda progress, cancel: evaluate(principal, ref=ref, dataset=dataset,
                                                        progress=progress, cancel=cancel),
                      what=f"evaluating {ref}", label="evaluation", on_done=self._show)

    def _busy_changed(self, busy: bool) -> None:
        self.evaluate_button.setEnabled(not busy and self.dataset_combo.count() > 0)
        self.dataset_combo.setEnabled(not busy)

    def _clear(self) -> None:
        self.outcome = None
        for label in (self.score_label, self.invalid_label, self.left_out_label,
                      self.confusion_label):
            label.setText("")
        for table in (self.invalid_table, self.confusion_table):
            table.setRowCount(0)
            table.setVisible(False)

    def _show(self, result: dict[str, Any]) -> None:
        self.outcome = result
        self.score_label.setText(score_line(result))
        self.score_label.setStyleSheet(GOOD_STYLE)
        self.invalid_label.setText(invalid_line(result))
        reasons = result.get("invalid_reasons") or {}
        self.invalid_table.setRowCount(len(reasons))
        for row, (reason, count) in enumerate(reasons.items()):
            item = QTableWidgetItem(str(reason))
            item.setToolTip(str(reason))
            self.invalid_table.setItem(row, 0, item)
            cell = QTableWidgetItem(str(count))
            cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.invalid_table.setItem(row, 1, cell)
        self.invalid_table.setVisible(bool(reasons))
        _fit_height(self.invalid_table)
        left_out = result.get("left_out") or 0
        self.left_out_label.setText(
            f"{left_out} window{'s' if left_out != 1 else ''} across a labelled time range's "
            "edge left out (as in training)" if left_out else "")
        self._fill_confusion(result)
        self.sig_evaluated.emit(result)

    def _fill_confusion(self, result: dict[str, Any]) -> None:
        labels = [str(n) for n in result.get("labels") or []]
        matrix = result.get("confusion") or []
        table = self.confusion_table
        if not labels:
            self.confusion_label.setText("")
            table.setVisible(False)
            return
        self.confusion_label.setText("Confusion matrix of the valid windows (rows: true state; "
                                     "columns: predicted)")
        table.setColumnCount(len(labels))
        table.setRowCount(len(labels))
        table.setHorizontalHeaderLabels(labels)
        table.setVerticalHeaderLabels(labels)
        bold = QFont()
        bold.setBold(True)
        for r, row in enumerate(matrix):
            for c, count in enumerate(row):
                cell = QTableWidgetItem(str(count))
                cell.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                if r == c:
                    cell.setFont(bold)  # the diagonal: predicted as it was
                table.setItem(r, c, cell)
        table.setVisible(True)
        _fit_height(table)

    def invalid_rows(self) -> list[tuple[str, ...]]:
        """The invalid-input table as text."""
        return table_rows(self.invalid_table)

    def confusion_rows(self) -> list[tuple[str, ...]]:
        """The confusion matrix as text, with the true state first in each row."""
        table = self.confusion_table
        heads = [table.verticalHeaderItem(r) for r in range(table.rowCount())]
        return [(h.text() if h is not None else "", *cells)
                for h, cells in zip(heads, table_rows(table), strict=True)]

    def confusion_columns(self) -> list[str]:
        """The predicted states heading the matrix's columns."""
        table = self.confusion_table
        items = [table.horizontalHeaderItem(c) for c in range(table.columnCount())]
        return [i.text() if i is not None else "" for i in items]

    def reject(self) -> None:
        # Closing stops a running evaluation; nothing of it is kept.
        self.jobs.cancel()
        super().reject()
