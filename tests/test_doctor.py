"""``plantml doctor``: one line per check, a non-zero exit when one fails, each failure named."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.services import doctor
from app.services.doctor import run_self_test

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ("native kernels", "onnxruntime", "Qt", "serial ports", "workspace", "clock",
          "disk space")


def _plantml(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=180, env=env, check=False)


def test_doctor_passes_on_this_installation(services, admin, home):
    done = _plantml("--home", str(home), "doctor",
                    env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
    lines = done.stdout.strip().splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    assert [line.split(":")[0].split(None, 1)[1] for line in lines[:-1]] == list(CHECKS)
    assert all(line.startswith("ok") for line in lines[:-1])
    assert "integrity_check" in lines[4] and lines[-1] == "self-test passed"


def test_a_qt_that_cannot_start_fails_the_doctor(tmp_path):
    env = dict(os.environ, QT_QPA_PLATFORM="no-such-platform")
    done = _plantml("--home", str(tmp_path / "ws"), "doctor", env=env)
    assert done.returncode == 1
    qt = next(line for line in done.stdout.splitlines() if line.split()[1] == "Qt:")
    assert qt.startswith("FAIL") and "no-such-platform" in qt
    assert done.stdout.strip().endswith("self-test FAILED: Qt")


def test_a_damaged_database_is_named(tmp_path):
    home = tmp_path / "ws"
    home.mkdir()
    con = sqlite3.connect(home / "plantml.db")
    con.execute("CREATE TABLE t (x)")
    con.executemany("INSERT INTO t VALUES (?)", [(os.urandom(200),) for _ in range(2000)])
    con.commit()
    con.close()
    raw = bytearray((home / "plantml.db").read_bytes())
    raw[4096 * 3:4096 * 3 + 64] = b"\xff" * 64  # a b-tree page header
    (home / "plantml.db").write_bytes(bytes(raw))
    check = next(c for c in run_self_test(home) if c.name == "workspace")
    assert not check.ok and "plantml.db" in check.detail


def test_a_clock_behind_the_audit_trail_fails(tmp_path):
    home = tmp_path / "ws"
    home.mkdir()
    con = sqlite3.connect(home / "plantml.db")
    con.execute("CREATE TABLE audit_events (seq INTEGER PRIMARY KEY, ts TEXT)")
    con.execute("INSERT INTO audit_events VALUES (1, '2099-06-01T00:00:00+00:00')")
    con.commit()
    con.close()
    check = next(c for c in run_self_test(home) if c.name == "clock")
    assert not check.ok and "behind the newest audit event" in check.detail


def test_too_little_disk_space_fails(tmp_path, monkeypatch):
    monkeypatch.setattr(doctor, "MIN_FREE_BYTES", 1 << 62)
    check = next(c for c in run_self_test(tmp_path) if c.name == "disk space")
    assert not check.ok and "MB free" in check.detail


@pytest.fixture
def resources_copy(tmp_path, monkeypatch) -> Path:
    copy = tmp_path / "resources"
    shutil.copytree(ROOT / "resources", copy)
    monkeypatch.setattr(doctor, "resource", copy.joinpath)
    return copy


def test_a_wrong_golden_output_fails_the_onnxruntime_check(tmp_path, resources_copy):
    path = resources_copy / "selftest" / "golden.npz"
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["out_scores"] = arrays["out_scores"][::-1].copy()
    np.savez(path, **arrays)
    check = next(c for c in run_self_test(tmp_path) if c.name == "onnxruntime")
    assert not check.ok and "'scores' differs" in check.detail


def test_wrong_golden_features_fail_the_kernel_check(tmp_path, resources_copy):
    path = resources_copy / "selftest" / "golden.npz"
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["features"] = arrays["features"] * (1 + 1e-6)
    np.savez(path, **arrays)
    check = next(c for c in run_self_test(tmp_path) if c.name == "native kernels")
    assert not check.ok and "differ from the golden ones" in check.detail


def test_a_missing_golden_model_is_named(tmp_path, resources_copy):
    (resources_copy / "selftest" / "golden.onnx").unlink()
    meta = json.loads((resources_copy / "selftest" / "golden.json").read_text("utf-8"))
    assert meta["outputs"]
    check = next(c for c in run_self_test(tmp_path) if c.name == "onnxruntime")
    assert not check.ok and "golden.onnx" in check.detail
