"""SQLAlchemy engine for the registry database: a SQLite file (the embedded default, with its
pragmas set on every connection) or a shared PostgreSQL server through psycopg 3."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from app.core import faults
from app.core.errors import RegistryUnreachable, StorageError, UsageError

#: The advisory lock every PostgreSQL write transaction holds (the audit chain's head):
#: writers queue on it as SQLite writers queue on BEGIN IMMEDIATE.
CHAIN_LOCK = 0x504C414E544D4C  # "PLANTML"
#: How long a workstation waits for an unreachable server before saying so.
CONNECT_TIMEOUT_S = 10


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


def registry_url(target: Path | str) -> URL:
    """The SQLAlchemy URL of ``target``: a SQLite file path, a ``sqlite:///`` URL or a
    ``postgresql+psycopg://`` URL (``postgresql://`` means psycopg 3 too)."""
    if isinstance(target, Path) or "://" not in str(target):
        return make_url(f"sqlite:///{Path(target).as_posix()}")
    try:
        url = make_url(str(target))
    except ArgumentError as exc:
        raise UsageError(f"{target!r} is not a database URL ({exc})") from exc
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg"):
        return url.set(drivername="postgresql+psycopg")
    if url.drivername == "sqlite" and url.database:
        return url
    raise UsageError(f"registry URL {url.render_as_string(hide_password=True)}: PlantML "
                     "speaks postgresql+psycopg:// (a shared server) or sqlite:///FILE")


def describe_url(url: URL) -> str:
    """Where the registry is, for messages: HOST:PORT/DB (no user, no password) or the file."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    host = url.host or "localhost"
    return f"{host}:{url.port or 5432}/{url.database or ''}"


def make_engine(target: Path | str) -> Engine:
    """An engine on ``target`` (see :func:`registry_url`). SQLite: WAL, synchronous=FULL,
    foreign keys on, BEGIN IMMEDIATE. PostgreSQL: connections checked before use, so a
    restarted server costs no failed action."""
    url = registry_url(target)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url)
        event.listen(engine, "connect", _on_connect)
        event.listen(engine, "begin", _on_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=2, max_overflow=8,
                         connect_args={"connect_timeout": CONNECT_TIMEOUT_S,
                                       "application_name": "plantml"})


def is_unreachable(exc: BaseException) -> bool:
    """True if ``exc`` says the PostgreSQL server cannot be reached (refused, lost, shut
    down), as opposed to a refused statement."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return False
    orig = exc.orig
    if not isinstance(orig, psycopg.OperationalError):
        return False
    state = getattr(orig, "sqlstate", None) or ""
    # No SQLSTATE: the client lost or never had the connection. Class 08 is a connection
    # exception; 57P01-57P03 an administrator or crash shutdown, or "cannot connect now".
    return not state or state.startswith("08") or state in ("57P01", "57P02", "57P03")


def lock_chain(session: Session) -> None:
    """Take the chain-head lock for the rest of the transaction (PostgreSQL; SQLite's
    BEGIN IMMEDIATE already holds the database's only write lock)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": CHAIN_LOCK})


class Database:
    """The registry database: one transaction helper that every write goes through."""

    def __init__(self, target: Path | str) -> None:
        self.url = registry_url(target)
        self.backend = self.url.get_backend_name()
        #: The SQLite file, or None for a server.
        self.path: Path | None = Path(str(self.url.database)) if self.backend == "sqlite" \
            else None
        self.where = describe_url(self.url)
        self.engine = make_engine(target if self.path is None else self.path)

    @property
    def shared_server(self) -> bool:
        """True for a PostgreSQL server (several workstations), False for a SQLite file."""
        return self.backend == "postgresql"

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn a lost or refused server connection into :class:`RegistryUnreachable`."""
        try:
            yield
        except DBAPIError as exc:
            if self.shared_server and is_unreachable(exc):
                raise self.unreachable(exc) from exc
            raise

    def unreachable(self, exc: DBAPIError) -> RegistryUnreachable:
        """The one-sentence error for a server that cannot be reached."""
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
        return RegistryUnreachable(f"the registry at {self.where} cannot be reached: "
                                   f"{reason.rstrip('.')}")

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one write transaction, committed on success, rolled back on error.

        SQLite I/O errors come out as :class:`StorageError` with the reason, a lost server
        as :class:`RegistryUnreachable`; either way nothing of the transaction is kept.
        """
        session = Session(self.engine, expire_on_commit=False)
        try:
            with self.guard():
                session.begin()
                lock_chain(session)
                yield session
                session.flush()
                faults.hit("commit", "database")
                session.commit()
            for callback in session.info.pop("after_commit", []):
                callback()
        except BaseException as exc:
            with contextlib.suppress(SQLAlchemyError):
                session.rollback()
            if isinstance(exc, DBAPIError) and isinstance(exc.orig, sqlite3.OperationalError):
                raise StorageError(f"the workspace database could not be written: {exc.orig}"
                                   ) from exc
            raise
        finally:
            with contextlib.suppress(SQLAlchemyError):
                session.close()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reads only (it is rolled back at the end)."""
        session = Session(self.engine, expire_on_commit=False)
        try:
            with self.guard():
                yield session
        finally:
            with contextlib.suppress(SQLAlchemyError):
                session.rollback()
                session.close()

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A plain connection for bulk reads (audit verify, export), rolled back at the end."""
        with self.guard(), self.engine.connect() as conn:
            yield conn

    def raw_connection(self) -> sqlite3.Connection:
        """A plain sqlite3 connection for bulk reads that must be fast (SQLite only)."""
        if self.path is None:
            raise StorageError(f"the registry at {self.where} is not a SQLite file")
        conn = sqlite3.connect(self.path, isolation_level=None)
        conn.execute("PRAGMA query_only=ON")
        return conn

    def dispose(self) -> None:
        """Close every pooled connection (needed before moving or deleting the file)."""
        self.engine.dispose()
