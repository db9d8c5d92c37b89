"""Schema versioning: create new workspaces, upgrade old ones after a backup, refuse newer."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, inspect

from app.core.errors import StorageError, WorkspaceVersionError
from app.store.engine import CHAIN_LOCK

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """Alembic configuration pointing at the packaged migration scripts."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    """The newest schema revision this version of PlantML knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a new, empty database."""
    with engine.connect() as conn:
        rev = MigrationContext.configure(conn).get_current_revision()
        if rev is None and inspect(conn).get_table_names():
            raise StorageError(
                "the database holds tables but no schema version: it is not a PlantML "
                "workspace, or it was damaged"
            )
        return rev


def backup_database(db_path: Path, backups: Path, label: str) -> Path:
    """Copy the live database with SQLite's online backup API; returns the copy's path."""
    backups.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = backups / f"plantml-{label}-{stamp}.db"
    src = sqlite3.connect(db_path)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return target


def ensure_schema(engine: Engine, db_path: Path | None, backups: Path) -> str | None:
    """Bring the database to the head revision.

    Returns the path of the backup taken before an upgrade, or None. ``db_path`` is the
    SQLite file (None for a PostgreSQL server: its DDL runs in one transaction, so a failed
    upgrade changes nothing, and the server's backups are the plant's; several workstations
    starting at once queue on a lock and the first one upgrades).
    Raises :class:`WorkspaceVersionError` for a workspace written by a newer PlantML.
    """
    cfg = alembic_config()
    script = ScriptDirectory.from_config(cfg)
    head = script.get_current_head()
    current = current_revision(engine)
    if current == head:
        return None
    _refuse_newer(script, current, head)
    backup: Path | None = None
    if current is not None and db_path is not None:
        backup = backup_database(db_path, backups, f"before-upgrade-{current}")
        log.warning("upgrading workspace schema %s -> %s; backup at %s", current, head, backup)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})")
            current = MigrationContext.configure(conn).get_current_revision()
            if current == head:
                return None
            _refuse_newer(script, current, head)
            if current is not None:
                log.warning("upgrading the registry schema %s -> %s", current, head)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    return str(backup) if backup else None


def _refuse_newer(script: ScriptDirectory, current: str | None, head: str | None) -> None:
    if current is None:
        return
    try:
        script.get_revision(current)
    except CommandError as exc:
        raise WorkspaceVersionError(
            f"this workspace was written by a newer PlantML (schema {current}); this "
            f"version understands schema {head} at most. Install the newer PlantML or "
            "open another workspace."
        ) from exc
