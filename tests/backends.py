"""Fixtures that run a test folder on both registry backends (SQLite and a real PostgreSQL
server), and workstations sharing one registry; the service and audit suites' conftest files
take them from here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.services import Services, open_services
from tests.conftest import BACKENDS, FAST, open_on


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def services(home: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Services]:
    sv = open_on(backend, home, request)
    try:
        yield sv
    finally:
        sv.close()


@pytest.fixture
def shared_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new shared registry: a database on the test server, or one SQLite file."""
    if backend == "postgresql":
        return str(request.getfixturevalue("pg_database"))
    return f"sqlite:///{(tmp_path / 'registry.db').as_posix()}"


def open_workstation(tmp_path: Path, url: str, name: str, **kw) -> Services:
    """Workstation ``name`` (its own workspace and audit key) on the shared registry ``url``."""
    kw.setdefault("blob_folder", tmp_path / "shared-blobs")
    return open_services(tmp_path / name, create=True, db_url=url, workstation=name,
                         hash_params=FAST, checkpoint_interval=5, **kw)
