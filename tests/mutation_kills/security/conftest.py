"""Fixtures of the security kill tests: an empty schema in an in-memory SQLite database, and
password hashing at the suite's fast cost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.security.passwords import Passwords
from app.store.schema import Base
from tests.conftest import FAST


@pytest.fixture
def session() -> Iterator[Session]:
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        yield s
    engine.dispose()


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords(FAST)
