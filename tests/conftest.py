"""Shared fixtures: a real workspace on disk with cheap password hashing, users per role."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.core import faults
from app.core.principal import Principal
from app.core.roles import Role
from app.security.passwords import HashParams
from app.services import Services, open_services
from tests import pg

FAST = HashParams(time_cost=1, memory_cost=1024, parallelism=1)
PASSWORD = "Sup3r-Secret-Passw0rd-%s"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
CWRU = SHARED / "data" / "cwru"


def password_of(name: str) -> str:
    """Test password of user ``name``; distinctive so it can be searched for in files."""
    return PASSWORD % name


#: Threads a test may leave behind: pytest-timeout's watchdog, and the "dummy" entries
#: Python makes for threads it did not start (Qt's, onnxruntime's) when they call back in.
_NOT_OURS = ("pytest_timeout",)
#: A thread told to stop gets this long to finish before it counts as leaked.
STOP_GRACE_S = 10.0


def _leaked(before: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in before and t.is_alive()
            and not isinstance(t, threading._DummyThread)
            and not any(name in t.name for name in _NOT_OURS)]


@pytest.fixture(autouse=True)
def _no_leaked_threads_or_faults() -> Iterator[None]:
    # Daemon threads count too: every thread of the app is a daemon, and one left running
    # keeps serving, polling or holding a port after its test.
    before = set(threading.enumerate())
    yield
    faults.install(None)
    for thread in _leaked(before):
        thread.join(STOP_GRACE_S)  # returns at once for a thread that has already ended
    leaked = _leaked(before)
    assert not leaked, f"test leaked threads: {leaked}"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "ws"


@pytest.fixture
def services(home: Path) -> Iterator[Services]:
    sv = open_services(home, create=True, hash_params=FAST, checkpoint_interval=5)
    try:
        yield sv
    finally:
        sv.close()


#: The registry backends the service and audit suites run on (their conftest files
#: parametrise ``services`` with them). PLANTML_TEST_BACKENDS narrows them for a tool that
#: runs the tests hundreds of times (bench/mutation.py: one PostgreSQL cluster per mutant
#: would cost more than the mutant's tests); the suite itself always runs both.
ALL_BACKENDS = ("sqlite", "postgresql")


def _backends() -> tuple[str, ...]:
    given = os.environ.get("PLANTML_TEST_BACKENDS")
    if not given:
        return ALL_BACKENDS
    chosen = tuple(b.strip() for b in given.split(",") if b.strip())
    unknown = sorted(set(chosen) - set(ALL_BACKENDS))
    if unknown or not chosen:
        raise pytest.UsageError(f"PLANTML_TEST_BACKENDS={given!r}: unknown backend(s) "
                                f"{unknown}; known: {', '.join(ALL_BACKENDS)}")
    return chosen


BACKENDS = _backends()


@pytest.fixture(scope="session")
def pg_server():
    """The PostgreSQL server's URL for the session (skips or fails as tests/pg.py says)."""
    if "postgresql" not in BACKENDS:
        pytest.skip("PLANTML_TEST_BACKENDS leaves PostgreSQL out")
    gen = pg.server_url()
    url = next(gen)
    template = pg.make_template(url)
    yield url, template
    pg.drop_template(url)
    gen.close()


@pytest.fixture
def pg_database(pg_server) -> Iterator[str]:
    """The URL of a new, migrated, empty registry database for one test."""
    yield from pg.fresh_database(pg_server[0])


def open_on(backend: str, home: Path, request: pytest.FixtureRequest, **kw) -> Services:
    """A new workspace at ``home`` whose registry is a SQLite file or, for "postgresql", a
    new database on the test server with a shared blob folder beside ``home``."""
    kw.setdefault("hash_params", FAST)
    kw.setdefault("checkpoint_interval", 5)
    if backend == "postgresql":
        kw.setdefault("db_url", request.getfixturevalue("pg_database"))
        kw.setdefault("blob_folder", home.parent / "shared-blobs")
    return open_services(home, create=True, **kw)


@pytest.fixture
def admin(services: Services) -> Principal:
    return services.auth.bootstrap_admin(username="admin", password=password_of("admin"))


@pytest.fixture
def people(services: Services, admin: Principal) -> dict[str, Principal]:
    """One signed-in user per role, keyed by role name; plus 'admin'."""
    out = {"admin": admin}
    for role in Role:
        if role is Role.ADMIN:
            continue
        name = f"{role.value}1"
        services.users.add(admin, username=name, password=password_of(name), roles=[role.value])
        out[role.value] = services.auth.login(username=name, password=password_of(name))
    return out


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true",
                     help="also run the tests marked slow (the frozen-bundle build)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # PLANTML_TEST_DESELECT (comma-separated pieces of test ids) is for bench/mutation.py,
    # which leaves out of a group the few slow tests that check something else (concurrency,
    # the PDF) while it mutates modules those tests only pass through; .ci/run unsets it.
    dropped = [piece for piece in os.environ.get("PLANTML_TEST_DESELECT", "").split(",")
               if piece.strip()]
    if dropped:
        kept, gone = [], []
        for item in items:
            (gone if any(piece in item.nodeid for piece in dropped) else kept).append(item)
        if gone:
            config.hook.pytest_deselected(items=gone)
            items[:] = kept
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow (.ci/run does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
