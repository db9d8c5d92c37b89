"""Where the bundled resources (icons, stylesheet, tag maps, sample data, self-test) live."""

from __future__ import annotations

import sys
from pathlib import Path

from app.core.errors import StorageError

_SOURCE_TREE = Path(__file__).resolve().parents[2] / "resources"


def resources_dir() -> Path:
    """The resources folder: in the frozen bundle, in the source tree, or installed.

    PyInstaller unpacks data next to the modules (``sys._MEIPASS``); a source checkout or an
    editable install has ``resources/`` beside ``app/``; a wheel installs it under
    ``<prefix>/share/plantml/resources``.
    """
    frozen = getattr(sys, "_MEIPASS", None)
    for folder in ((Path(frozen) / "resources") if frozen else None, _SOURCE_TREE,
                   Path(sys.prefix) / "share" / "plantml" / "resources"):
        if folder is not None and (folder / "about.md").is_file():
            return folder
    raise StorageError("the bundled resources folder is missing (looked in the bundle, next "
                       "to the app package and under share/plantml); reinstall PlantML")


def resource(*parts: str) -> Path:
    """Path of one bundled file; raises StorageError naming it when it is missing."""
    path = resources_dir().joinpath(*parts)
    if not path.exists():
        raise StorageError(f"the bundled resource {'/'.join(parts)} is missing; reinstall "
                           "PlantML")
    return path
