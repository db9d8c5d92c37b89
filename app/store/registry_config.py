"""Which registry a workspace uses: its own SQLite file (the default) or a shared database
named in the workspace setting ``registry.json`` (written by ``plantml init --db URL``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import StorageError, UsageError
from app.store.durable import durable_write
from app.store.engine import describe_url, registry_url
from app.store.workspace import WorkspacePaths

#: The workspace setting naming a shared registry; absent means the workspace's own file.
CONFIG_NAME = "registry.json"
#: The registry setting naming the shared blob folder (all workstations see one path).
BLOB_SETTING = "storage.blob_folder"


@dataclass(frozen=True)
class RegistryChoice:
    """The registry to open: a URL (shared) or None (``plantml.db`` in the workspace), and
    whether this workstation was set up for it before."""

    url: str | None
    configured: bool
    #: This workstation's name in the shared trail (the shared settings cannot hold it).
    workstation: str = ""

    def target(self, paths: WorkspacePaths) -> Path | str:
        """What :class:`app.store.engine.Database` opens."""
        return self.url if self.url is not None else paths.db


def config_path(paths: WorkspacePaths) -> Path:
    """Where the workspace setting lives."""
    return paths.home / CONFIG_NAME


def read_choice(paths: WorkspacePaths) -> RegistryChoice:
    """The registry this workspace is set up for; a damaged setting is a StorageError."""
    path = config_path(paths)
    if not path.exists():
        return RegistryChoice(None, paths.db.exists())
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        url = str(doc["url"])
        workstation = str(doc.get("workstation", ""))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise StorageError(f"{path}: not a readable registry setting ({exc}); it should hold "
                           '{"url": "postgresql+psycopg://HOST:PORT/DB"}') from exc
    registry_url(url)  # refuses what PlantML cannot open
    return RegistryChoice(url, True, workstation)


def choose(paths: WorkspacePaths, url: str | None, workstation: str = "") -> RegistryChoice:
    """The registry for ``plantml init`` (``url`` None: the workspace's own file); a workspace
    already set up for another registry is refused."""
    current = read_choice(paths)
    if url is None:
        return current
    registry_url(url)
    if current.url is not None and current.url != url:
        raise UsageError(f"{paths.home} is set up for the registry at "
                         f"{describe_url(registry_url(current.url))}; use another --home")
    if current.url is None and current.configured:
        raise UsageError(f"{paths.home} already holds its own registry ({paths.db}); use "
                         "another --home for a shared one")
    return RegistryChoice(url, current.configured, workstation or current.workstation)


def save_choice(paths: WorkspacePaths, choice: RegistryChoice) -> None:
    """Write the workspace setting (owner-only: the URL may carry a password)."""
    if choice.url is None:
        return
    doc = {"url": choice.url}
    if choice.workstation:
        doc["workstation"] = choice.workstation
    durable_write(config_path(paths), json.dumps(doc, indent=2).encode(), mode=0o600)
