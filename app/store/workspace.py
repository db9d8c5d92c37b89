"""Workspace folder layout and where it lives (platformdirs default, --home, PLANTML_HOME)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

ENV_HOME = "PLANTML_HOME"


def resolve_home(explicit: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder: ``explicit``, else ``$PLANTML_HOME``, else the user data dir."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser().resolve()
    return Path(user_data_dir("PlantML", "PlantML", roaming=False))


@dataclass(frozen=True)
class WorkspacePaths:
    """Every path inside one workspace."""

    home: Path

    @property
    def db(self) -> Path:
        return self.home / "plantml.db"

    @property
    def blobs(self) -> Path:
        return self.home / "blobs"

    @property
    def keys(self) -> Path:
        return self.home / "keys"

    @property
    def backups(self) -> Path:
        return self.home / "backups"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def audit_dir(self) -> Path:
        return self.home / "audit"

    def create(self) -> None:
        """Make the folders (idempotent)."""
        for folder in (self.home, self.blobs, self.keys, self.backups, self.logs,
                       self.audit_dir):
            folder.mkdir(parents=True, exist_ok=True)
