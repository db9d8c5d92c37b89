"""T02 and T03: failing writes, fsyncs, renames, commits and audit rows never leave a half
change, and persistent failure makes the workspace read-only with an alarm."""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest

from app.core import faults
from app.core.errors import PlantMLError, StorageError, WorkspaceReadOnly
from app.services import open_services
from app.services.audit import AuditFilter, verify_export_folder
from app.store.durable import TEMP_MARK
from tests.conftest import FAST, password_of


def _scenario(sv, admin, out: Path, tag: str) -> list[str]:
    """Mixed work touching the database and files; returns what each step reported."""
    outcomes = []
    steps = [
        lambda: sv.users.add(admin, username=f"u{tag}", password="long-password-1",
                             roles=["engineer"]),
        lambda: sv.settings.set(admin, key="security.idle_lock_minutes", value=33),
        lambda: sv.audit.export(admin_auditor(sv), folder=out / f"export{tag}"),
        lambda: sv.users.unlock(admin, username="aud"),
    ]
    for step in steps:
        try:
            step()
            outcomes.append("ok")
        except PlantMLError as exc:
            assert str(exc) and "Traceback" not in str(exc)
            outcomes.append(type(exc).__name__)
    return outcomes


def admin_auditor(sv):
    return sv.auth.login(username="aud", password=password_of("aud"))


def _fresh(home: Path):
    sv = open_services(home, create=True, hash_params=FAST, checkpoint_interval=3)
    admin = sv.auth.bootstrap_admin(username="admin", password=password_of("admin"))
    sv.users.add(admin, username="aud", password=password_of("aud"), roles=["auditor", "admin"])
    return sv, admin


def _count_steps(tmp_path: Path) -> int:
    sv, admin = _fresh(tmp_path / "count")
    plan = faults.FaultPlan(fail_at=0)
    faults.install(plan)
    try:
        _scenario(sv, admin, tmp_path / "count-out", "c")
    finally:
        faults.install(None)
        sv.close()
    return plan.count


def _check_consistent(home: Path, out: Path) -> None:
    with open_services(home) as sv:
        assert not list(home.rglob(f"{TEMP_MARK}*"))
        conn = sqlite3.connect(sv.paths.db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        users = {u for (u,) in conn.execute("SELECT username FROM users")}
        conn.close()
        admin = sv.auth.login(username="aud", password=password_of("aud"))
        assert sv.audit.verify(admin).ok
        added = {e.object.split(":", 1)[1] for e in sv.audit.show(
            admin, AuditFilter(action="user.add", result="ok", limit=100))}
        assert users == added, "every account has its audit row and every audit row its account"
    for folder in out.glob("export*"):
        members = {p.name for p in folder.iterdir()}
        if "manifest.json" in members:
            assert verify_export_folder(folder).ok
        else:
            assert not members, f"partial export left behind: {members}"


def test_t02_every_single_failure_is_refused_or_rolled_back(tmp_path):
    total = _count_steps(tmp_path)
    assert total > 20
    for n in range(1, total + 1):
        home, out = tmp_path / f"once{n}", tmp_path / f"once{n}-out"
        sv, admin = _fresh(home)
        plan = faults.FaultPlan(fail_at=n)
        faults.install(plan)
        try:
            outcomes = _scenario(sv, admin, out, str(n))
        finally:
            faults.install(None)
            sv.close()
        failed = [o for o in outcomes if o != "ok"]
        assert len(failed) <= 1, (n, plan.log[-1], outcomes)
        assert set(failed) <= {"StorageError"}, (n, outcomes)
        _check_consistent(home, out)


@pytest.mark.parametrize("start", [1, 5, 12])
def test_t02_persistent_failure_makes_the_workspace_read_only_with_an_alarm(tmp_path, start):
    home, out = tmp_path / "ws", tmp_path / "out"
    sv, admin = _fresh(home)
    faults.install(faults.FaultPlan(fail_at=start, persistent=True))
    try:
        for i in range(4):
            _scenario(sv, admin, out, f"p{i}")
        assert sv.health.read_only
        assert "ALARM" in sv.health.alarm and "read-only" in sv.health.alarm
        faults.install(None)
        with pytest.raises(WorkspaceReadOnly, match="read-only"):
            sv.settings.set(admin, key="security.idle_lock_minutes", value=44)
    finally:
        faults.install(None)
        sv.close()
    _check_consistent(home, out)


def test_t03_audit_row_cannot_be_written_so_the_action_does_not_happen(services, people,
                                                                      monkeypatch):
    admin = people["admin"]
    original = services.ctx.trail._write

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(services.ctx.trail, "_write", disk_full)
    with pytest.raises(StorageError, match="No space left on device") as err:
        services.users.add(admin, username="ghost", password="ghost-password", roles=["operator"])
    assert "nothing was changed" in str(err.value)
    monkeypatch.setattr(services.ctx.trail, "_write", original)
    assert "ghost" not in {u.username for u in services.users.list(admin)}


def test_t03_database_refuses_the_audit_insert(services, people):
    admin = people["admin"]
    conn = sqlite3.connect(services.paths.db)
    conn.execute("CREATE TRIGGER full BEFORE INSERT ON audit_events "
                 "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")
    conn.commit()
    with pytest.raises(StorageError, match="disk is full"):
        services.settings.set(admin, key="security.idle_lock_minutes", value=99)
    conn.execute("DROP TRIGGER full")
    conn.commit()
    conn.close()
    assert services.settings.get("security.idle_lock_minutes") != 99
