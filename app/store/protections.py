"""The schema's protections (the triggers that make the trail, signatures and signing keys
append-only), checked at start-up and by audit verify, restored when missing (issue 13.16).

Someone with the database file can drop a trigger; the hash chain still catches edits of the
trail, but a dropped protection is itself a sign of tampering: it is reported as an alarm.
On PostgreSQL the same rules are PL/pgSQL triggers (app/store/protections_pg.py).
"""

from __future__ import annotations

import re
import sqlite3

from app.store import protections_pg
from app.store.engine import CHAIN_LOCK, Database

#: Trigger name -> the exact statement the migrations create.
PROTECTIONS = {
    "audit_events_no_update":
        "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
    "audit_events_no_delete":
        "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
        "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END",
    "audit_checkpoints_no_update":
        "CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints "
        "BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END",
    "audit_checkpoints_no_delete":
        "CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints "
        "BEGIN SELECT RAISE(ABORT, 'audit checkpoints are append-only'); END",
    "signatures_no_update":
        "CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures "
        "BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END",
    "signatures_no_delete":
        "CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures "
        "BEGIN SELECT RAISE(ABORT, 'signatures are append-only'); END",
    "user_keys_no_delete":
        "CREATE TRIGGER user_keys_no_delete BEFORE DELETE ON user_keys "
        "BEGIN SELECT RAISE(ABORT, 'signing keys are never deleted'); END",
    "user_keys_fixed":
        "CREATE TRIGGER user_keys_fixed BEFORE UPDATE OF key_id, user_id, public_key "
        "ON user_keys BEGIN SELECT RAISE(ABORT, 'a signing key cannot be changed'); END",
    "audit_keys_no_update":
        "CREATE TRIGGER audit_keys_no_update BEFORE UPDATE ON audit_keys "
        "BEGIN SELECT RAISE(ABORT, 'audit keys are append-only'); END",
    "audit_keys_no_delete":
        "CREATE TRIGGER audit_keys_no_delete BEFORE DELETE ON audit_keys "
        "BEGIN SELECT RAISE(ABORT, 'audit keys are append-only'); END",
}


def _normal(sql: str | None) -> str:
    return re.sub(r"\s+", " ", sql or "").strip().rstrip(";").lower()


def missing_protections(conn: sqlite3.Connection) -> list[str]:
    """Names of protections absent from the database, or present with another body."""
    stored = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    return [name for name, sql in PROTECTIONS.items()
            if _normal(stored.get(name)) != _normal(sql)]


def restore_protections(conn: sqlite3.Connection, names: list[str]) -> None:
    """Create the protections ``names`` again (replacing an altered one), in one transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        for name in names:
            conn.execute(f"DROP TRIGGER IF EXISTS {name}")
            conn.execute(PROTECTIONS[name])
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def check_file(db_path) -> list[str]:
    """:func:`missing_protections` of the database file at ``db_path`` (read-only)."""
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return missing_protections(conn)
    finally:
        conn.close()


def repair_file(db_path) -> list[str]:
    """Restore every missing protection of the database file; returns their names."""
    conn = sqlite3.connect(db_path, isolation_level=None)
    try:
        names = missing_protections(conn)
        if names:
            restore_protections(conn, names)
        return names
    finally:
        conn.close()


def check(db: Database) -> list[str]:
    """Names of the protections missing or altered in the registry ``db`` (either backend)."""
    if db.path is not None:
        return check_file(db.path)
    with db.connection() as conn:
        return protections_pg.missing(conn)


def repair(db: Database) -> list[str]:
    """Restore every missing protection of the registry ``db``; returns their names."""
    if db.path is not None:
        return repair_file(db.path)
    with db.guard(), db.engine.begin() as conn:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK})")
        names = protections_pg.missing(conn)
        if names:
            protections_pg.install(conn, names)
        return names

