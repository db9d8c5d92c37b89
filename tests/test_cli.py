"""The ``plantml`` command line, run as a real process: exit codes, messages, no tracebacks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def plantml(*args: str, home: Path | None = None, user: str | None = None,
            password: str | None = None, new_password: str | None = None,
            ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANTML_")}
    if home is not None:
        env["PLANTML_HOME"] = str(home)
    if user:
        env["PLANTML_USER"] = user
    if password:
        env["PLANTML_PASSWORD"] = password
    if new_password:
        env["PLANTML_NEW_PASSWORD"] = new_password
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True,
                          env=env, cwd=ROOT, stdin=subprocess.DEVNULL, timeout=120,
                          check=False)


@pytest.fixture
def ws(tmp_path):
    home = tmp_path / "ws"
    r = plantml("init", "--admin", "boss", home=home, new_password="boss-password-1")
    assert r.returncode == 0, r.stderr
    assert "workspace ready" in r.stdout
    r = plantml("user", "add", "audrey", "--role", "auditor", home=home, user="boss",
                password="boss-password-1", new_password="audrey-password-1")
    assert r.returncode == 0, r.stderr
    return home


def test_user_list_and_audit_show(ws):
    r = plantml("user", "list", home=ws, user="boss", password="boss-password-1")
    assert r.returncode == 0
    assert "audrey" in r.stdout and "auditor" in r.stdout
    r = plantml("audit", "show", "--action", "user.add", home=ws, user="audrey",
                password="audrey-password-1")
    assert r.returncode == 0
    assert "user:audrey" in r.stdout and "user:boss" in r.stdout


def test_wrong_password_exit_code_and_no_traceback(ws):
    r = plantml("user", "list", home=ws, user="boss", password="nope-nope-nope")
    assert r.returncode == 3
    assert "invalid user name or password" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_permission_denied_exit_code(ws):
    r = plantml("user", "add", "x1", "--role", "engineer", home=ws, user="audrey",
                password="audrey-password-1", new_password="x1-password-1")
    assert r.returncode == 4
    assert "needs the role admin" in r.stderr


def test_no_terminal_and_no_environment_gives_a_clear_message(ws):
    r = plantml("user", "list", home=ws)
    assert r.returncode == 2
    assert "PLANTML_USER" in r.stderr


def test_missing_workspace_is_a_clear_error(tmp_path):
    r = plantml("audit", "show", home=tmp_path / "none", user="a", password="b")
    assert r.returncode == 2
    assert "plantml init" in r.stderr


def test_export_then_verify_on_another_machine(ws, tmp_path):
    out = tmp_path / "usb" / "audit"
    r = plantml("audit", "export", str(out), home=ws, user="audrey", password="audrey-password-1")
    assert r.returncode == 0, r.stderr
    # "Another machine": no workspace, no sign-in, only the export folder.
    r = plantml("audit", "verify", str(out), home=tmp_path / "no-workspace-here")
    assert r.returncode == 0, r.stderr
    assert "audit trail intact" in r.stdout
    assert not (tmp_path / "no-workspace-here").exists()
    events = out / "events.jsonl"
    events.write_text(events.read_text(encoding="utf-8").replace("audrey", "mallor", 1),
                      encoding="utf-8")
    r = plantml("audit", "verify", str(out))
    assert r.returncode == 5
    assert "events.jsonl" in r.stderr and "differs" in r.stderr


def test_verify_workspace_names_first_bad_sequence(ws):
    import sqlite3

    conn = sqlite3.connect(ws / "plantml.db")
    conn.execute("DROP TRIGGER audit_events_no_update")
    seq = conn.execute("SELECT min(seq) FROM audit_events WHERE body LIKE '%user:audrey%'"
                       ).fetchone()[0]
    conn.execute("UPDATE audit_events SET body = replace(body, 'audrey', 'audrex') WHERE seq = ?",
                 (seq,))
    conn.commit()
    conn.close()
    r = plantml("audit", "verify", home=ws, user="boss", password="boss-password-1")
    assert r.returncode == 5
    assert f"at sequence {seq}:" in r.stdout


def test_demo_runs_headless():
    r = plantml("demo")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "demo passed" in r.stdout
    assert "FAIL" not in r.stdout


def test_help_lists_commands():
    r = plantml("--help")
    assert r.returncode == 0
    for word in ("init", "user", "audit", "demo", "gui"):
        assert word in r.stdout


def test_datasets_list_show_label(tmp_path):
    import numpy as np

    from app.core.records import ChannelInfo
    from app.core.roles import Action
    from app.services import open_services
    from app.services.datasets import RecordingInput
    from tests.conftest import FAST

    home = tmp_path / "ws"
    with open_services(home, create=True, hash_params=FAST) as sv:
        admin = sv.auth.bootstrap_admin(username="admin", password="admin-password-1")
        sv.users.add(admin, username="erin", password="erin-password-1", roles=["engineer"])
        erin = sv.auth.login(username="erin", password="erin-password-1")
        info = sv.datasets.create_from_arrays(
            erin, action=Action.DATA_IMPORT, name="line 3 pump", sample_rate=1000.0,
            channels=[ChannelInfo("acc", "g")], provenance={"source": "test"},
            recordings=[RecordingInput(name="run1", data=np.zeros((1, 2000)))])
    creds = {"home": home, "user": "erin", "password": "erin-password-1"}
    r = plantml("datasets", "list", **creds)
    assert r.returncode == 0 and "line 3 pump" in r.stdout and info.dataset_id[:12] in r.stdout
    r = plantml("datasets", "label", info.dataset_id[:8], "0", "cavitation", "--start", "0.5",
                "--end", "1.5", **creds)
    assert r.returncode == 0, r.stderr
    r = plantml("datasets", "show", info.dataset_id[:8], **creds)
    assert "cavitation" in r.stdout and "[0.5 s, 1.5 s)" in r.stdout
    r = plantml("datasets", "show", "zzzzzzzz", **creds)
    assert r.returncode == 6 and "no dataset" in r.stderr


def test_models_list_show_compare(tmp_path):
    from app.services import open_services
    from tests.conftest import FAST

    home = tmp_path / "ws"
    with open_services(home, create=True, hash_params=FAST) as sv:
        admin = sv.auth.bootstrap_admin(username="admin", password="admin-password-1")
        sv.users.add(admin, username="erin", password="erin-password-1", roles=["engineer"])
        erin = sv.auth.login(username="erin", password="erin-password-1")
        for acc in (0.97, 0.99):
            sv.registry.register(erin, line="pump-7", kind="classifier", dataset_id="d" * 64,
                                 feature_spec={"window": 2048}, recipe={"model": "rf"},
                                 metrics={"accuracy": acc}, lineage={},
                                 artifacts={"model.onnx": b"m%f" % acc}, parity_passed=True)
    creds = {"home": home, "user": "erin", "password": "erin-password-1"}
    r = plantml("models", "list", **creds)
    assert r.returncode == 0 and "pump-7" in r.stdout and "2 versions" in r.stdout
    r = plantml("models", "show", "pump-7:v2", "--history", **creds)
    assert r.returncode == 0 and "validated" in r.stdout and "model.register" in r.stdout
    r = plantml("models", "compare", "pump-7:v1", "pump-7:v2", **creds)
    assert "metrics.accuracy" in r.stdout and "0.97" in r.stdout
    r = plantml("models", "alias", "pump-7:v2", "production", "--reason", "go", **creds)
    assert r.returncode == 4  # an engineer may not move aliases


def test_propose_approve_export_verify(tmp_path):
    from app.services import open_services
    from tests.conftest import FAST
    from tests.services.release_kit import register

    home = tmp_path / "ws"
    with open_services(home, create=True, hash_params=FAST) as sv:
        admin = sv.auth.bootstrap_admin(username="admin", password="admin-password-1")
        for name, role in (("erin", "engineer"), ("avery", "approver"), ("omar", "operator")):
            sv.users.add(admin, username=name, password=f"{name}-password-1", roles=[role])
        register(sv, sv.auth.login(username="erin", password="erin-password-1"))

    def as_(name, *args):
        return plantml(*args, home=home, user=name, password=f"{name}-password-1")

    r = as_("erin", "propose", "pump-7:v1", "--hardware-id", "EDGE-01", "--reason", "ready")
    assert r.returncode == 0, r.stderr
    r = as_("erin", "approve", "pump-7:v1", "--reason", "mine")
    assert r.returncode == 4
    r = as_("avery", "approve", "pump-7:v1", "--reason", "reports reviewed")
    assert r.returncode == 0 and "pump-7:v1 approved" in r.stdout, r.stderr
    stick = tmp_path / "stick"
    stick.mkdir()
    r = as_("omar", "package", "export", "pump-7:v1", str(stick))
    assert r.returncode == 0 and "may be removed" in r.stdout, r.stderr
    [pkg] = stick.glob("*.plantml")
    r = as_("omar", "package", "verify", str(pkg), "--hardware-id", "EDGE-01")
    assert r.returncode == 0 and "engineer:erin, approver:avery" in r.stdout
    data = bytearray(pkg.read_bytes())
    data[len(data) // 2] ^= 0x01
    pkg.write_bytes(bytes(data))
    r = as_("omar", "package", "verify", str(pkg))
    assert r.returncode == 5 and "Traceback" not in r.stderr


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A workspace with a real trained model (synthetic vibration, unit g at 100 mV/g), a
    dataset holding a dead-sensor and a NaN window, and a proposed version flagged NOT
    ROBUST."""
    from app.services import open_services
    from app.services.recipes import make_recipe
    from tests.conftest import FAST
    from tests.services.vibration_kit import register_not_robust, two_states, with_bad_windows

    home = tmp_path_factory.mktemp("trained") / "ws"
    with open_services(home, create=True, hash_params=FAST) as sv:
        admin = sv.auth.bootstrap_admin(username="admin", password="admin-password-1")
        for name, role in (("erin", "engineer"), ("avery", "approver")):
            sv.users.add(admin, username=name, password=f"{name}-password-1", roles=[role])
        erin = sv.auth.login(username="erin", password="erin-password-1")
        ds = two_states(sv, erin)
        model = sv.training.train(erin, dataset=ds.dataset_id, line="pump-3",
                                  recipe=make_recipe(), window=1024, hop=1024).version
        bad = with_bad_windows(sv, erin)
        flagged = register_not_robust(sv, erin)
        sv.approvals.propose(erin, ref=flagged.ref, password="erin-password-1",
                             hardware_ids=["EDGE-01"], reason="ready")
    return {"home": home, "model": model.ref, "bad": bad.dataset_id, "flagged": flagged.ref}


def _as(trained, name, *args):
    return plantml(*args, home=trained["home"], user=name, password=f"{name}-password-1")


def test_evaluate_reports_dead_and_nan_windows_as_invalid_input(trained):
    r = _as(trained, "erin", "evaluate", trained["model"], trained["bad"][:12])
    assert r.returncode == 0, r.stderr
    assert "20 windows, accuracy" in r.stdout and "on the 18 valid windows" in r.stdout
    assert "2 windows are invalid input" in r.stdout
    assert ("invalid input: flat line (dead or disconnected sensor); level far below the "
            "training envelope: 1 window") in r.stdout
    assert "invalid input: non-finite samples (NaN or infinite): 1 window" in r.stdout
    assert "confusion matrix" in r.stdout


def test_models_show_prints_the_robustness_evidence_readably(trained):
    r = _as(trained, "erin", "models", "show", trained["model"])
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.splitlines()[0].startswith(f"{trained['model']}  (classifier, validated)")
    assert "Robustness: " in out and "check (exported model, onnxruntime)" in out
    for check in ("gain x0.5", "gain x2", "dead sensor (zeros)", "one NaN sample"):
        assert check in out
    assert "Input acc: unit g, scale 100 mV/g" in out and "Envelope acc: level" in out
    assert "Labels: Time-range labels are used for training" in out
    assert '{"' not in out and "':" not in out  # no raw JSON or dicts
    r = _as(trained, "erin", "models", "show", trained["flagged"])
    assert r.stdout.splitlines()[0].endswith("NOT ROBUST")
    assert "Leave one condition out" in r.stdout and "load=2hp" in r.stdout


def test_approve_prints_the_evidence_and_a_not_robust_version_needs_acceptance(trained):
    ref = trained["flagged"]
    r = _as(trained, "avery", "approve", ref, "--reason", "reviewed")
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Robustness: NOT ROBUST: gain x0.5" in r.stdout  # shown before the password
    assert "--accept-not-robust" in r.stderr and "Traceback" not in r.stderr
    r = _as(trained, "avery", "approve", ref, "--accept-not-robust", "--reason",
            "not robust to gain; one sensor type on this line")
    assert r.returncode == 0, r.stderr
    assert f"{ref} approved" in r.stdout


def test_import_with_conditions_units_and_datasets_show(tmp_path):
    import numpy as np

    home = tmp_path / "ws"
    assert plantml("init", "--admin", "boss", home=home,
                   new_password="boss-password-1").returncode == 0
    assert plantml("user", "add", "erin", "--role", "engineer", home=home, user="boss",
                   password="boss-password-1", new_password="erin-password-1").returncode == 0
    files = []
    for k in range(3):
        files.append(tmp_path / f"run{k}.npz")
        np.savez(files[-1], acc=np.random.default_rng(k).normal(size=3000))
    side = tmp_path / "conditions.csv"
    side.write_text("file;condition\nrun0.npz;load=0hp\n", encoding="utf-8")
    creds = {"home": home, "user": "erin", "password": "erin-password-1"}
    r = plantml("import", *map(str, files), "--sample-rate", "1000", "--label", "ok",
                "--conditions", str(side), "--file-condition", "run1=load=2hp",
                "--condition", "load=1hp", "--unit", "g", "--scale", "acc=100 mV/g", **creds)
    assert r.returncode == 0, r.stderr
    assert "conditions: load=0hp x1, load=1hp x1, load=2hp x1" in r.stdout
    dataset = r.stdout.split()[1]
    r = plantml("datasets", "show", dataset[:12], **creds)
    assert "acc [g] (scale 100 mV/g)" in r.stdout
    assert "run1" in r.stdout and "load=2hp" in r.stdout
    assert "validation holds each of the 3 out in turn" in r.stdout
    r = plantml("import", str(files[0]), "--sample-rate", "1000", "--file-condition",
                "load=0hp", **creds)
    assert r.returncode == 2 and "'load' names no file of this import" in r.stderr
