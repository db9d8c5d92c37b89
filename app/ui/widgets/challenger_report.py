"""A trained challenger beside its champion: which version was trained, accuracy per class,
the confusion matrices side by side and the challenger's robustness table (issue 12.4)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.comparison import Comparison
from app.core.lifecycle import State
from app.core.model_version import Robustness
from app.services.challenger import ChallengeOutcome
from app.ui.navigation import translate
from app.ui.styles import BAD_STYLE, GOOD_STYLE, show_styled
from app.ui.widgets.robustness_table import RobustnessPanel, fill_table, readable_table
from app.ui.widgets.table_text import table_rows

ROLES = ("champion", "challenger")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def trained_sentence(outcome: ChallengeOutcome) -> str:
    """Which version was trained, against which champion, and what it waits for."""
    v, champion = outcome.trained.version, outcome.comparison.champion
    if v.state == State.VALIDATED.value:
        return translate("MainWindow", "{0} was trained as the challenger of {1} and awaits "
                         "approval on the Models page (propose it there first).").format(
                             v.ref, champion)
    return translate("MainWindow", "{0} was trained as the challenger of {1} but did not pass "
                     "the parity gate ({2}), so it cannot be approved.").format(
                         v.ref, champion, v.parity.blocked_reason or v.state)


def accuracy_text(c: Comparison) -> str:
    """Both accuracies on the same held-out windows, overall and on the new ones."""
    r = c.report
    return translate("MainWindow", "On the same {0} held-out windows ({1} of them from the "
                     "captured data): accuracy {2} for the champion, {3} for the challenger; "
                     "on the captured windows {4} and {5}.").format(
        r["windows"], r["new_windows"], _pct(c.accuracy("champion")),
        _pct(c.accuracy("challenger")), _pct(c.accuracy("champion", "accuracy_new")),
        _pct(c.accuracy("challenger", "accuracy_new")))


def class_rows(c: Comparison) -> list[tuple[str, str, str, str]]:
    """(class, held-out windows, champion recall, challenger recall) per true class."""
    ch, cl = (c.report["models"][role]["per_class"] for role in ROLES)
    out = []
    for name in sorted(set(ch) | set(cl), key=str):
        a, b = ch.get(name, {}), cl.get(name, {})
        out.append((str(name), str(a.get("n", b.get("n", 0))), _pct(a.get("recall")),
                    _pct(b.get("recall"))))
    return out


class ChallengerDialog(QDialog):
    """What the approver will see, shown to the engineer who trained it; "Open on the Models
    page" goes to the new version."""

    sig_open_models = Signal(str)
    """Carries the new version's ref: the user wants it on the Models page."""

    def __init__(self, outcome: ChallengeOutcome, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.outcome = outcome
        v, c = outcome.trained.version, outcome.comparison
        self.ref = v.ref
        self.setWindowTitle(translate("MainWindow", "Challenger {0} against {1}").format(
            v.ref, c.champion))
        self.summary_label = QLabel("")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        show_styled(self.summary_label, trained_sentence(outcome),
                    GOOD_STYLE if v.state == State.VALIDATED.value else BAD_STYLE)
        self.accuracy_label = QLabel(accuracy_text(c))
        self.accuracy_label.setWordWrap(True)

        self.class_table = readable_table([
            translate("MainWindow", "class"), translate("MainWindow", "held-out windows"),
            translate("MainWindow", "champion {0}").format(c.champion),
            translate("MainWindow", "challenger {0}").format(v.ref)], "class_recall")
        fill_table(self.class_table, class_rows(c), numeric=(1, 2, 3))
        per_class = QWidget()
        per_class_layout = QVBoxLayout(per_class)
        per_class_layout.addWidget(QLabel(translate(
            "MainWindow", "Recall per true class: the share of its windows each model named "
            "right.")))
        per_class_layout.addWidget(self.class_table, 1)

        labels = [str(x) for x in c.report["labels"]]
        self.confusion_tables: dict[str, QTableWidget] = {}
        confusion = QWidget()
        confusion_layout = QVBoxLayout(confusion)
        confusion_layout.addWidget(QLabel(translate(
            "MainWindow", "Rows: true class; columns: predicted class (the same held-out "
            "windows)")))
        side_by_side = QHBoxLayout()
        for role, title in (("champion", translate("MainWindow", "Champion {0}")),
                            ("challenger", translate("MainWindow", "Challenger {0}"))):
            model = c.report["models"][role]
            table = readable_table(labels, f"confusion_{role}")
            fill_table(table, [[str(n) for n in row] for row in model["confusion"]],
                       numeric=range(len(labels)))
            table.setVerticalHeaderLabels(labels)
            table.verticalHeader().setVisible(True)
            self.confusion_tables[role] = table
            column = QVBoxLayout()
            column.addWidget(QLabel(title.format(model["ref"] or v.ref)))
            column.addWidget(table, 1)
            side_by_side.addLayout(column, 1)
        confusion_layout.addLayout(side_by_side, 1)

        self.robustness = RobustnessPanel()
        self.robustness.show_robustness(Robustness.from_report(
            outcome.trained.validation.get("robustness")))

        self.tabs = QTabWidget()
        self.tabs.addTab(per_class, translate("MainWindow", "Accuracy per class"))
        self.tabs.addTab(confusion, translate("MainWindow", "Confusion matrices"))
        self.tabs.addTab(self.robustness, translate("MainWindow", "Robustness of the "
                                                                  "challenger"))

        self.open_button = QPushButton(translate("MainWindow", "Open on the Models page"))
        self.open_button.setToolTip(translate("MainWindow", "Show {0} on the Models page, "
                                              "where it is proposed and approved").format(v.ref))
        self.open_button.clicked.connect(self._open_clicked)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.open_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary_label)
        layout.addWidget(self.accuracy_label)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(buttons)
        self.resize(820, 520)

    def class_rows(self) -> list[tuple[str, ...]]:
        """The per-class table as text rows."""
        return table_rows(self.class_table)

    def confusion(self, role: str) -> list[list[int]]:
        """``role``'s confusion matrix as shown (rows: truth)."""
        return [[int(x) for x in row] for row in table_rows(self.confusion_tables[role])]

    def _open_clicked(self, *_args: object) -> None:
        self.sig_open_models.emit(self.ref)
        self.accept()
