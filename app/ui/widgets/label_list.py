"""The labels of the recording shown, one line each, and the button that withdraws one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.records import LabelInfo


class LabelList(QWidget):
    """"Labels of this recording" with "Withdraw label..." beside it, above ``list``: each
    label's time range (or the whole recording), who set it and when."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.list = QListWidget()
        self.list.setObjectName("labels_list")
        self.withdraw_button = QPushButton("Withdraw label...")
        self.withdraw_button.setToolTip("Withdraw the selected label (to correct one: withdraw "
                                        "it, then label again); audited with your reason")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("Labels of this recording"), 1)
        head.addWidget(self.withdraw_button)
        layout.addLayout(head)
        layout.addWidget(self.list, 1)

    def show_labels(self, labels: list[LabelInfo]) -> None:
        """List ``labels`` in place of those listed before."""
        self.list.clear()
        for lb in labels:
            if lb.t_start is None:
                text = f"{lb.label}: whole recording"
            else:
                text = f"{lb.label}: {lb.t_start:.6g} s to {lb.t_end:.6g} s"
            self.list.addItem(f"{text} ({lb.created_by}, {lb.created_at[:19]})")
            self.list.item(self.list.count() - 1).setData(Qt.ItemDataRole.UserRole, lb.id)

    def selected(self) -> tuple[int, str] | None:
        """The id and the line of the selected label, or None."""
        item = self.list.currentItem()
        if item is None:
            return None
        return int(item.data(Qt.ItemDataRole.UserRole)), item.text()
