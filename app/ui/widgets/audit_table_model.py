"""Table model over a list of audit events, one row per event."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from app.core.records import AuditEvent
from app.ui.time_format import format_time

#: Column headers, in display order; each names the AuditEvent field it shows ("time": ts).
COLUMNS: tuple[str, ...] = ("seq", "time", "user", "role", "action", "object", "result",
                            "reason")

_REFUSED = QColor("#c62828")

Index = QModelIndex | QPersistentModelIndex


def _cell(event: AuditEvent, column: int) -> str:
    name = COLUMNS[column]
    if name == "seq":
        return str(event.seq)
    if name == "time":
        return format_time(event.ts)
    return str(getattr(event, name))


def _details(event: AuditEvent) -> str:
    """Tooltip: what the columns leave out."""
    lines = [f"workstation: {event.workstation}"]
    if event.old is not None:
        lines.append(f"old: {json.dumps(event.old, sort_keys=True, ensure_ascii=False)}")
    if event.new is not None:
        lines.append(f"new: {json.dumps(event.new, sort_keys=True, ensure_ascii=False)}")
    lines.append(f"hash: {event.hash}")
    return "\n".join(lines)


class AuditTableModel(QAbstractTableModel):
    """Read-only rows of audit events; failed or refused events are drawn in red."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._events: list[AuditEvent] = []

    def set_events(self, events: list[AuditEvent]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self._events = list(events)
        self.endResetModel()

    def event_at(self, row: int) -> AuditEvent:
        """The event shown in ``row``."""
        return self._events[row]

    def events(self) -> list[AuditEvent]:
        """Every event shown, in display order."""
        return list(self._events)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else len(self._events)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 - Qt's signature
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._events):
            return None
        event = self._events[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _cell(event, index.column())
        if role == Qt.ItemDataRole.ToolTipRole:
            return _details(event)
        if role == Qt.ItemDataRole.ForegroundRole and event.result != "ok":
            return QBrush(_REFUSED)
        if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[index.column()] == "seq":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(COLUMNS)):
            return COLUMNS[section]
        return None
