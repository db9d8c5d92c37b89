"""Fixtures that run a test folder on both registry backends (SQLite and a real PostgreSQL
server); the service and audit suites' conftest files take them from here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.services import Services
from tests.conftest import BACKENDS, open_on


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
