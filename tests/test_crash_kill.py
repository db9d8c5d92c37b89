"""T01: the process is killed at random points during mixed work; nothing acknowledged is
lost and every operation is either complete with its audit row or absent.

CI runs PLANTML_T01_KILLS (default 50) kills; set it to 1000 for the full run."""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.services import open_services
from app.services.audit import AuditFilter, verify_export_folder
from tests.conftest import FAST

KILLS = int(os.environ.get("PLANTML_T01_KILLS", "50"))
ROOT = Path(__file__).resolve().parents[1]


def _life(home: Path, out: Path, life: int, rng: random.Random) -> list[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-m", "tests.crash_worker", str(home), str(out),
                             str(life)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=env)
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first.strip() == "READY", first + proc.stderr.read()
    # The kill comes after a random number of the worker's own steps, then a random moment
    # into the next one: a slow machine moves when the kill lands, not whether steps finish.
    seen = [proc.stdout.readline() for _ in range(rng.randint(0, 3))]
    time.sleep(rng.uniform(0.0, 0.25))
    proc.kill()
    out_lines, err = proc.communicate(timeout=30)
    assert "Traceback" not in err, err
    return "".join(seen).splitlines() + out_lines.splitlines()


def _check(home: Path, acked: list[str]) -> None:
    conn = sqlite3.connect(home / "plantml.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    users = {u for (u,) in conn.execute("SELECT username FROM users")}
    conn.close()
    with open_services(home) as sv:
        admin = sv.auth.login(username="admin", password="crash-admin-password")
        report = sv.audit.verify(admin)
        assert report.ok, report.summary()
        added = {e.object.split(":", 1)[1] for e in sv.audit.show(
            admin, AuditFilter(action="user.add", limit=1_000_000))}
        settings = {(e.reason, e.new) for e in sv.audit.show(
            admin, AuditFilter(action="settings.change", limit=1_000_000))}
    assert users == added, "an account without its audit row, or an audit row without account"
    for line in acked:
        _, op, key = line.split(" ", 2)
        if op == "user":
            assert f"u{key}" in users, line
        elif op == "setting":
            life, i = key.split(":")
            assert (f"life {life}", int(i)) in settings, line


@pytest.mark.timeout(120 + KILLS * 8)
def test_t01_random_kills_lose_nothing_acknowledged(tmp_path):
    home, out = tmp_path / "ws", tmp_path / "exports"
    with open_services(home, create=True, hash_params=FAST, checkpoint_interval=7) as sv:
        admin = sv.auth.bootstrap_admin(username="admin", password="crash-admin-password")
        sv.users.add(admin, username="aud", password="crash-aud-password", roles=["auditor"])
    rng = random.Random(20261127)
    acked: list[str] = []
    exports: list[str] = []
    for life in range(KILLS):
        lines = _life(home, out, life, rng)
        acked += [ln for ln in lines if ln.startswith("ACK ") and " export " not in ln]
        exports += [ln.split(" ", 2)[2] for ln in lines if ln.startswith("ACK export ")]
        _check(home, acked)
    assert len(acked) > KILLS, "the worker should finish several steps per life"
    # Without this the export part could be refused every time and the test would not see.
    assert len(exports) >= KILLS // 10, f"only {len(exports)} exports were acknowledged"
    for key in exports:
        assert verify_export_folder(out / f"export{key}").ok
