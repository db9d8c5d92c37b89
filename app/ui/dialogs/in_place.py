"""One page-owned dialog at a time: a new one opens window-modal in place of the last."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def open_in_place_of(old: QWidget | None, dialog: QWidget) -> QWidget:
    """Open ``dialog`` window-modal without blocking and return it; ``old``, the dialog shown
    before, is deleted unless it is ``dialog`` or still busy with a job."""
    if old is not None and old is not dialog and not getattr(old, "busy", False):
        old.deleteLater()
    dialog.open()  # type: ignore[attr-defined]
    return dialog
