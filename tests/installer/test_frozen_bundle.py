"""The frozen one-folder bundle (installer/build.sh) runs: self-test, demo, GUI to sign-in.

Slow (the build takes minutes): skipped unless ``--run-slow``; ``.ci/run`` runs it. The
sign-in screenshot is kept in ``build/artifacts/`` for the next review to look at.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "artifacts"
EXE = ".exe" if sys.platform == "win32" else ""

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("frozen")
    env = dict(os.environ, PYTHON=sys.executable, DIST=str(out / "dist"),
               WORK=str(out / "work"))
    done = subprocess.run(["bash", str(ROOT / "installer" / "build.sh")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1500, check=False)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    summary = done.stdout.strip().splitlines()[-1]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "frozen-build.txt").write_text(summary + "\n", encoding="utf-8")
    print(summary)
    return out / "dist" / "PlantML"


def _run(exe: Path, *args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess:
    # No PYTHONPATH or venv: the bundle must carry everything it needs.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return subprocess.run([str(exe), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)


def test_the_frozen_self_test_passes(bundle, tmp_path):
    done = _run(bundle / f"plantml-cli{EXE}", "--home", str(tmp_path / "ws"), "doctor",
                cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "compiled" in done.stdout and "platform plugin offscreen" in done.stdout


def test_the_frozen_demo_passes(bundle, tmp_path):
    done = _run(bundle / f"plantml-cli{EXE}", "demo", cwd=tmp_path)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    assert "demo passed" in done.stdout and "FAIL" not in done.stdout


def test_the_frozen_gui_reaches_the_sign_in_dialog(bundle, tmp_path):
    shot = ARTIFACTS / "frozen-sign-in.png"
    shot.unlink(missing_ok=True)
    done = _run(bundle / f"PlantML{EXE}", "--home", str(tmp_path / "ws"), "--snapshot",
                str(shot), cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "ws" / "plantml.db").is_file(), "the first start creates the workspace"
