"""Workspace store: pragmas, migrations, version refusal, blobs and the durable-write helper."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy.exc
from alembic import command
from sqlalchemy import text

from app.core.errors import IntegrityError, StorageError, UsageError, WorkspaceVersionError
from app.services import open_services
from app.store.blobs import BlobStore
from app.store.durable import TEMP_MARK, durable_write
from app.store.engine import Database
from app.store.migrate import alembic_config, head_revision
from tests.conftest import FAST


def test_every_connection_has_wal_full_sync_and_foreign_keys(services):
    for _ in range(3):
        with services.db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_foreign_keys_are_enforced(services):
    with (pytest.raises(sqlalchemy.exc.IntegrityError, match="FOREIGN KEY"),
          services.db.transaction() as s):
        s.execute(text("INSERT INTO user_roles (user_id, role) VALUES (999, 'admin')"))


def test_new_workspace_is_at_head_revision(services):
    with services.db.engine.connect() as conn:
        rev = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    assert rev == head_revision()


def test_missing_workspace_is_refused_without_create(tmp_path):
    with pytest.raises(UsageError, match="no PlantML workspace"):
        open_services(tmp_path / "nothing-here")
    assert not (tmp_path / "nothing-here").exists()


def test_newer_workspace_is_refused_with_message(home):
    open_services(home, create=True, hash_params=FAST).close()
    with sqlite3.connect(home / "plantml.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    before = (home / "plantml.db").read_bytes()
    with pytest.raises(WorkspaceVersionError, match="newer PlantML"):
        open_services(home)
    assert (home / "plantml.db").read_bytes() == before


def test_older_workspace_is_backed_up_then_upgraded(home):
    home.mkdir(parents=True)
    db = Database(home / "plantml.db")
    cfg = alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
    db.dispose()
    with open_services(home, hash_params=FAST) as sv:
        with sv.db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() \
                == head_revision()
        backups = list((home / "backups").glob("plantml-before-upgrade-0001-*.db"))
        assert len(backups) == 1
        with sqlite3.connect(backups[0]) as conn:
            assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == "0001"
        admin = sv.auth.bootstrap_admin(username="admin", password="admin-password")
        events = sv.audit.show(admin)
        assert any(e.action == "workspace.upgrade" for e in events)


def test_corrupt_database_is_refused_at_start_without_writes(home):
    open_services(home, create=True, hash_params=FAST).close()
    path = home / "plantml.db"
    data = bytearray(path.read_bytes())
    data[0:16] = b"garbage-garbage!"
    path.write_bytes(bytes(data))
    with pytest.raises(StorageError, match="damaged"):
        open_services(home)
    assert path.read_bytes() == bytes(data)


def test_blob_store_names_by_sha256_and_detects_alteration(tmp_path):
    store = BlobStore(tmp_path / "blobs")
    digest = store.put_bytes(b"vibration")
    assert store.put_bytes(b"vibration") == digest
    assert store.read_bytes(digest) == b"vibration"
    assert store.path_of(digest).parent.name == digest[:2]
    src = tmp_path / "big.bin"
    src.write_bytes(b"x" * 3_000_000)
    big = store.put_file(src)
    assert store.hash_file(store.path_of(big)) == big
    store.path_of(digest).write_bytes(b"vibratioN")
    with pytest.raises(IntegrityError, match="altered"):
        store.read_bytes(digest)


def test_durable_write_replaces_atomically_and_cleans_up(tmp_path):
    target = tmp_path / "f.txt"
    durable_write(target, b"one")

    def broken():
        yield b"two-partial"
        raise OSError("disk gone")

    with pytest.raises(OSError, match="disk gone"):
        durable_write(target, broken())
    assert target.read_bytes() == b"one"
    assert not list(tmp_path.glob(f"{TEMP_MARK}*"))


def test_stale_temp_files_are_removed_at_start(home):
    open_services(home, create=True, hash_params=FAST).close()
    stale = home / "blobs" / "ab" / f"{TEMP_MARK}deadbeef.123"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half")
    open_services(home).close()
    assert not stale.exists()


def test_workspace_home_from_environment(monkeypatch, tmp_path):
    from app.store.workspace import resolve_home

    monkeypatch.setenv("PLANTML_HOME", str(tmp_path / "envhome"))
    assert resolve_home() == (tmp_path / "envhome").resolve()
    assert resolve_home(tmp_path / "explicit") == (tmp_path / "explicit").resolve()
    monkeypatch.delenv("PLANTML_HOME")
    assert isinstance(resolve_home(), Path)
