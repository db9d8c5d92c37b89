"""SQLAlchemy engine for the workspace database with the pragmas set on every connection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from app.core import faults
from app.core.errors import StorageError


def _on_connect(dbapi_conn, _record) -> None:
    # pysqlite's own transaction handling would defer BEGIN; we emit BEGIN IMMEDIATE
    # ourselves so a writer holds the lock from the first statement.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _on_begin(conn) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(db_path: Path) -> Engine:
    """An engine on the SQLite file ``db_path``: WAL, synchronous=FULL, foreign keys on."""
    engine = create_engine(f"sqlite:///{Path(db_path).as_posix()}")
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


class Database:
    """The workspace database: one transaction helper that every write goes through."""

    def __init__(self, db_path: Path) -> None:
        self.path = Path(db_path)
        self.engine = make_engine(self.path)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one write transaction, committed on success, rolled back on error.

        SQLite I/O errors come out as :class:`StorageError` with the reason.
        """
        session = Session(self.engine, expire_on_commit=False)
        try:
            session.begin()
            yield session
            session.flush()
            faults.hit("commit", "database")
            session.commit()
            for callback in session.info.pop("after_commit", []):
                callback()
        except BaseException as exc:
            session.rollback()
            if isinstance(exc, DBAPIError) and isinstance(exc.orig, sqlite3.OperationalError):
                raise StorageError(f"the workspace database could not be written: {exc.orig}"
                                   ) from exc
            raise
        finally:
            session.close()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reads only (it is rolled back at the end)."""
        session = Session(self.engine, expire_on_commit=False)
        try:
            yield session
        finally:
            session.rollback()
            session.close()

    def raw_connection(self) -> sqlite3.Connection:
        """A plain sqlite3 connection for bulk reads that must be fast (audit verify)."""
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA query_only=ON")
        return conn

    def dispose(self) -> None:
        """Close every pooled connection (needed before moving or deleting the file)."""
        self.engine.dispose()
