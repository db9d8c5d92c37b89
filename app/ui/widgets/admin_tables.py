"""The accounts table and the trusted-keys table of the Administration page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from app.core.records import UserInfo
from app.services.keys import TrustedKey
from app.ui.time_format import format_time
from app.ui.widgets.table_text import table_rows

T = TypeVar("T")


def user_state(info: UserInfo) -> str:
    """"active", "locked" or how many sign-ins failed since the last good one."""
    if info.locked:
        return "locked"
    if info.failed_attempts:
        n = info.failed_attempts
        return f"active ({n} failed sign-in{'s' if n != 1 else ''})"
    return "active"


def key_state(key: TrustedKey) -> str:
    """"trusted", "retired SINCE" (signs nothing new) or "revoked SINCE" (signs nothing)."""
    if key.revoked_at:
        replaced = f", replaced by {key.replaced_by}" if key.replaced_by else ""
        return f"revoked {format_time(key.revoked_at)}{replaced}"
    if key.retired_at:
        return f"retired {format_time(key.retired_at)}"
    return "trusted"


class _RecordTable(QTableWidget, Generic[T]):
    """A read-only, single-row-selection table of records, one per row."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self) -> None:
        super().__init__(0, len(self.HEADERS))
        self.setHorizontalHeaderLabels(list(self.HEADERS))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.verticalHeader().setVisible(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self._records: list[T] = []

    def cells(self, record: T) -> tuple[str, ...]:
        """The text of each column for ``record``."""
        raise NotImplementedError

    def key_of(self, record: T) -> str:
        """What identifies ``record`` across a reload (to keep it selected)."""
        raise NotImplementedError

    def fill(self, records: Sequence[T]) -> None:
        """Show ``records``; the selected one stays selected if it is still there."""
        keep = self.selected()
        kept = self.key_of(keep) if keep is not None else None
        self.blockSignals(True)
        self.clearSelection()
        self._records = list(records)
        self.setRowCount(len(self._records))
        for row, record in enumerate(self._records):
            for column, text in enumerate(self.cells(record)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.setItem(row, column, item)
        self.blockSignals(False)
        for row, record in enumerate(self._records):
            if self.key_of(record) == kept:
                self.selectRow(row)
                return
        self.itemSelectionChanged.emit()

    def selected(self) -> T | None:
        """The record of the selected row, or None."""
        rows = self.selectionModel().selectedRows()
        if not rows:
            return None
        row = rows[0].row()
        return self._records[row] if 0 <= row < len(self._records) else None

    def select_key(self, key: str) -> bool:
        """Select the row of the record ``key``; False if it is not listed."""
        for row, record in enumerate(self._records):
            if self.key_of(record) == key:
                self.selectRow(row)
                return True
        return False

    def rows(self) -> list[tuple[str, ...]]:
        """Every row as text (for tests and copying out)."""
        return table_rows(self)


class UsersTable(_RecordTable[UserInfo]):
    """One row per account: name, roles, state, created."""

    HEADERS = ("User", "Roles", "State", "Created")

    def cells(self, record: UserInfo) -> tuple[str, ...]:
        return (record.username, ", ".join(r.value for r in record.roles), user_state(record),
                format_time(record.created_at.isoformat()))

    def key_of(self, record: UserInfo) -> str:
        return record.username


class KeysTable(_RecordTable[TrustedKey]):
    """One row per trusted key: id, owner, roles it may sign for, state, added."""

    HEADERS = ("Key", "User", "Signs as", "State", "Added")

    def cells(self, record: TrustedKey) -> tuple[str, ...]:
        return (record.key_id, record.user, ", ".join(record.roles), key_state(record),
                format_time(record.added_at))

    def key_of(self, record: TrustedKey) -> str:
        return record.key_id
