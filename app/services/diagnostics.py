"""Where the command line writes its log and crash reports: inside the workspace, readable by
its owner only (never a fixed name in the shared, world-writable temp folder)."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from platformdirs import user_log_dir

from app.store.workspace import WorkspacePaths, resolve_home

LOG_NAME = "plantml.log"
CRASH_NAME = "crash.log"


def _private_dir(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    if os.name == "posix":
        os.chmod(folder, 0o700)
    return folder


def logs_folder(home: str | os.PathLike[str] | None) -> Path:
    """The workspace's ``logs`` folder when the workspace exists, else the user's own log
    folder (platformdirs); created owner-only."""
    try:
        paths = WorkspacePaths(resolve_home(home))
        if paths.db.exists() or (paths.home / "registry.json").exists():
            return _private_dir(paths.logs)
    except OSError:
        pass
    return _private_dir(Path(user_log_dir("PlantML", appauthor=False)))


def open_private_append(path: Path):
    """Open ``path`` for appending text, creating it readable and writable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_BINARY", 0),
                 0o600)
    if os.name == "posix":
        os.fchmod(fd, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


def write_crash_log(home: str | os.PathLike[str] | None, details: str) -> Path:
    """Append ``details`` (a traceback) to the crash log; returns where it went."""
    path = logs_folder(home) / CRASH_NAME
    with open_private_append(path) as fh:
        fh.write(f"--- {datetime.now(UTC).isoformat()}\n{details}\n")
    return path


def file_log_handler(home: str | os.PathLike[str] | None) -> logging.Handler | None:
    """A handler writing warnings to the workspace log file, or None when it cannot be
    opened (the command then logs nowhere but its own error message)."""
    try:
        path = logs_folder(home) / LOG_NAME
        open_private_append(path).close()  # created owner-only before logging opens it
    except OSError:
        return None
    handler = logging.FileHandler(path, encoding="utf-8", delay=True)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler
