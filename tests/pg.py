"""A real PostgreSQL server for the shared-registry tests: PLANTML_TEST_PG_URL, else a
throwaway cluster started here (installer/pg_cluster.py) when initdb and pg_ctl are found.

Where no server can be had the PostgreSQL tests skip with the reason, unless
PLANTML_REQUIRE_PG=1 (set by .ci/run), which makes them fail instead. Each test gets its own
database, copied from a template migrated once per session.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

ENV_URL = "PLANTML_TEST_PG_URL"
ENV_REQUIRE = "PLANTML_REQUIRE_PG"
ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = f"plantml_tmpl_{os.getpid()}"
_counter = itertools.count(1)


def _cluster_module():
    spec = importlib.util.spec_from_file_location("pg_cluster", ROOT / "installer" /
                                                  "pg_cluster.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["pg_cluster"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _unavailable(reason: str) -> None:
    if os.environ.get(ENV_REQUIRE) == "1":
        pytest.fail(f"PostgreSQL is required ({ENV_REQUIRE}=1) but {reason}", pytrace=False)
    pytest.skip(f"no PostgreSQL server: {reason}")


def server_url() -> Iterator[URL]:
    """The server's URL (its own test database), for the session."""
    given = os.environ.get(ENV_URL)
    if given:
        url = make_url(given).set(drivername="postgresql+psycopg")
        try:
            engine = create_engine(url)
            with engine.connect():
                pass
            engine.dispose()
        except (SQLAlchemyError, OSError) as exc:
            _unavailable(f"{ENV_URL} cannot be reached ({str(exc).splitlines()[0]})")
        yield url
        return
    cluster_mod = _cluster_module()
    why = cluster_mod.server_available()
    if why:
        _unavailable(f"{ENV_URL} is not set and {why}")
    try:
        # The tests check behaviour, not durability: no fsync keeps them quick.
        cluster = cluster_mod.start(fsync=False)
    except RuntimeError as exc:
        _unavailable(f"{ENV_URL} is not set and a cluster could not be started: {exc}")
    try:
        yield make_url(cluster.url)
    finally:
        cluster.stop()


def admin_engine(url: URL):
    """An autocommit engine on the server (CREATE/DROP DATABASE cannot run in a transaction)."""
    return create_engine(url, isolation_level="AUTOCOMMIT", pool_size=1)


def make_template(url: URL) -> URL:
    """A database at the head schema, copied for every test."""
    from app.store.engine import Database
    from app.store.migrate import ensure_schema

    admin = admin_engine(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {TEMPLATE}"))
    finally:
        admin.dispose()
    tmpl = url.set(database=TEMPLATE)
    db = Database(tmpl.render_as_string(hide_password=False))
    try:
        ensure_schema(db.engine, None, Path("."))
    finally:
        db.dispose()
    return tmpl


def fresh_database(url: URL) -> Iterator[str]:
    """A new database copied from the template; dropped after the test."""
    name = f"plantml_t{os.getpid()}_{next(_counter)}"
    admin = admin_engine(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}"))
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    finally:
        admin.dispose()


def drop_template(url: URL) -> None:
    admin = admin_engine(url)
    try:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)"))
    finally:
        admin.dispose()
