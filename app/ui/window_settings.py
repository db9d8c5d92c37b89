"""What the GUI remembers on this workstation for this user: the window's geometry, and which
workspaces have had their first-start self-test."""

from __future__ import annotations

import hashlib
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QWidget

GEOMETRY_KEY = "window/geometry"


def gui_settings() -> QSettings:
    """The GUI's settings: an INI file in the user's configuration folder of this
    workstation (not the workspace, which other workstations may share)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, "PlantML",
                     "plantml-gui")


def restore_geometry(window: QWidget) -> bool:
    """Put ``window`` where it was last closed; False if nothing was stored (or it was
    unusable: Qt keeps a window on a screen that still exists)."""
    stored = gui_settings().value(GEOMETRY_KEY)
    if not isinstance(stored, QByteArray | bytes) or not stored:
        return False
    return bool(window.restoreGeometry(QByteArray(stored)))


def save_geometry(window: QWidget) -> None:
    """Remember where ``window`` is and how big."""
    settings = gui_settings()
    settings.setValue(GEOMETRY_KEY, window.saveGeometry())
    settings.sync()


def _workspace_key(home: Path) -> str:
    return "selftest/" + hashlib.sha256(str(Path(home).resolve()).encode("utf-8")).hexdigest()[:16]


def selftest_due(home: Path) -> bool:
    """True on the first start of the workspace ``home`` on this workstation."""
    return not gui_settings().value(_workspace_key(home), False, type=bool)


def mark_selftest_done(home: Path) -> None:
    """The first-start self-test of ``home`` was shown here."""
    settings = gui_settings()
    settings.setValue(_workspace_key(home), True)
    settings.sync()
