"""GUI test fixtures: offscreen Qt, a workspace with users per role, one task runner."""

from __future__ import annotations

import os

# Before any Qt import: the tests run without a display, on one 1920x1080 screen (the
# offscreen plugin's own is 800x800, smaller than the window it would have to hold).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
if os.environ["QT_QPA_PLATFORM"] == "offscreen":
    _SCREEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "offscreen-screen.json")
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={_SCREEN}"

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, QThreadPool

from app.core.principal import Principal
from app.security.passwords import HashParams
from app.services import Services, open_services
from app.ui.task_runner import TaskRunner

CHEAP = HashParams(time_cost=1, memory_cost=8192, parallelism=1)
PASSWORDS = {"admin": "admin-pass-1234", "aud": "aud-pass-1234", "erin": "erin-pass-1234",
             "avery": "avery-pass-1234", "dual": "dual-pass-1234", "omar": "omar-pass-1234"}


@dataclass
class Workspace:
    """An open workspace with an administrator, an auditor and an engineer signed in."""

    home: Path
    services: Services
    admin: Principal
    auditor: Principal
    engineer: Principal


@pytest.fixture(autouse=True)
def _no_leaked_ui_threads() -> Iterator[None]:
    # Set up first, so torn down last: after the runner fixture has shut its worker down.
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()
              and not t.name.startswith("pytest_timeout")]
    assert not leaked, f"test leaked threads: {leaked}"
    assert QThreadPool.globalInstance().activeThreadCount() == 0


@pytest.fixture(autouse=True)
def _gui_settings_in_tmp(tmp_path_factory) -> Iterator[Path]:
    """The GUI's per-workstation settings (geometry, first-start self-test) go to a fresh
    folder: tests neither read nor change the developer's own."""
    folder = tmp_path_factory.mktemp("gui-settings")
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    yield folder


@pytest.fixture
def empty_services(tmp_path: Path) -> Iterator[Services]:
    """A fresh workspace with no accounts yet (the first run)."""
    sv = open_services(tmp_path / "ws", create=True, hash_params=CHEAP)
    try:
        yield sv
    finally:
        sv.close()


@pytest.fixture
def workspace(empty_services: Services) -> Workspace:
    sv = empty_services
    admin = sv.auth.bootstrap_admin(username="admin", password=PASSWORDS["admin"])
    sv.users.add(admin, username="aud", password=PASSWORDS["aud"], roles=["auditor"])
    sv.users.add(admin, username="erin", password=PASSWORDS["erin"], roles=["engineer"])
    return Workspace(home=sv.home, services=sv, admin=admin,
                     auditor=sv.auth.login(username="aud", password=PASSWORDS["aud"]),
                     engineer=sv.auth.login(username="erin", password=PASSWORDS["erin"]))


@pytest.fixture
def runner(qtbot) -> Iterator[TaskRunner]:
    r = TaskRunner()
    yield r
    assert r.shutdown(5000), "a background job was still running at the end of the test"


@pytest.fixture
def people(workspace: Workspace) -> dict[str, Principal]:
    """The workspace's users plus an approver (avery), an engineer who is also an approver
    (dual) and an operator (omar), signed in, keyed by user name."""
    sv = workspace.services
    for name, roles in (("avery", ["approver"]), ("dual", ["engineer", "approver"]),
                        ("omar", ["operator"])):
        sv.users.add(workspace.admin, username=name, password=PASSWORDS[name], roles=roles)
    out = {"admin": workspace.admin, "aud": workspace.auditor, "erin": workspace.engineer}
    for name in ("avery", "dual", "omar"):
        out[name] = sv.auth.login(username=name, password=PASSWORDS[name])
    return out
