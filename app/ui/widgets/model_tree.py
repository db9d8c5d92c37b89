"""The Models page's tree: model lines with their versions, state coloured, aliases named."""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from app.core.model_version import ModelVersion
from app.core.records import ModelLineInfo
from app.ui.model_details import display_state, state_sentence
from app.ui.time_format import format_time

#: Colour of the state column per displayed state.
STATE_COLOURS = {"approved": "#2e7d32", "proposed": "#0d47a1", "rejected": "#c62828",
                 "retired": "#757575", "draft": "#8d6e63"}

#: Tree columns.
TREE_COLUMNS = ("model / version", "state", "aliases")

REF_ROLE = Qt.ItemDataRole.UserRole


class ModelTree(QTreeWidget):
    """One top-level item per model line, one child per version (its ref in REF_ROLE)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("model_tree")
        self.setColumnCount(len(TREE_COLUMNS))
        self.setHeaderLabels(list(TREE_COLUMNS))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def fill(self, lines: list[tuple[ModelLineInfo, list[ModelVersion]]]) -> None:
        """Show ``lines`` (without emitting selection changes)."""
        self.blockSignals(True)
        try:
            self.clear()
            for line, versions in lines:
                aliases = ", ".join(f"{a}=v{n}" for a, n in sorted(line.aliases.items()))
                top = QTreeWidgetItem([line.name, f"{line.kind}, {line.versions} versions",
                                       aliases])
                top.setToolTip(0, f"release counter {line.release_counter}")
                self.addTopLevelItem(top)
                for info in versions:
                    top.addChild(version_item(info))
                top.setExpanded(True)
        finally:
            self.blockSignals(False)

    def current_ref(self) -> str | None:
        """``line:vN`` of the selected version, or None."""
        return ref_of(self.currentItem())

    def version_refs(self) -> list[str]:
        """Every version listed, in tree order."""
        return [str(item.data(0, REF_ROLE)) for item in self._version_items()]

    def item_for(self, ref: str) -> QTreeWidgetItem | None:
        """The item of version ``ref``, or None."""
        return next((item for item in self._version_items() if item.data(0, REF_ROLE) == ref),
                    None)

    def _version_items(self) -> Iterator[QTreeWidgetItem]:
        """The version items (the children of the lines), in tree order."""
        for i in range(self.topLevelItemCount()):
            top = self.topLevelItem(i)
            if top is None:
                continue
            for j in range(top.childCount()):
                child = top.child(j)
                if child is not None:
                    yield child


def ref_of(item: QTreeWidgetItem | None) -> str | None:
    """The version ref an item stands for, or None (a line, or no item)."""
    ref = item.data(0, REF_ROLE) if item is not None else None
    return str(ref) if ref else None


def version_item(info: ModelVersion) -> QTreeWidgetItem:
    """The tree item of one version."""
    state = display_state(info)
    item = QTreeWidgetItem([f"v{info.version}", state, ", ".join(info.aliases)])
    item.setData(0, REF_ROLE, info.ref)
    item.setToolTip(0, f"{info.ref}: created {format_time(info.created_at)} by "
                       f"{info.created_by}")
    item.setToolTip(1, state_sentence(info))
    colour = STATE_COLOURS.get(state)
    if colour:
        item.setForeground(1, QBrush(QColor(colour)))
    return item
