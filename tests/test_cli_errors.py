"""13.17 and 15.12: bad command-line input is one readable sentence naming the argument,
never an internal error; refusals are printed once, on their own line; crash logs stay in
the workspace, readable by its owner only."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from app.cli import main as cli_main
from app.services import open_services
from tests.conftest import FAST
from tests.services.release_kit import register

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("cli") / "ws"
    with open_services(home, create=True, hash_params=FAST) as sv:
        admin = sv.auth.bootstrap_admin(username="boss", password="boss-password-1")
        for name, role in (("erin", "engineer"), ("omar", "operator"), ("aud", "auditor")):
            sv.users.add(admin, username=name, password=f"{name}-password-1", roles=[role])
        register(sv, sv.auth.login(username="erin", password="erin-password-1"))
    return home


def run(ws: Path, user: str, *argv: str, monkeypatch, capsys) -> tuple[int, str, str]:
    monkeypatch.setenv("PLANTML_HOME", str(ws))
    monkeypatch.setenv("PLANTML_USER", user)
    monkeypatch.setenv("PLANTML_PASSWORD", f"{user}-password-1")
    try:
        code = cli_main.main(list(argv))
    except SystemExit as exc:  # argparse refusals
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def refused(result: tuple[int, str, str], *words: str) -> str:
    code, _out, err = result
    assert code not in (0, cli_main.EXIT_INTERNAL), err
    assert "internal error" not in err and "Traceback" not in err, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 or lines[0].startswith("usage:"), err
    for word in words:
        assert word in err, (word, err)
    return err


@pytest.fixture
def cli(ws, monkeypatch, capsys):
    return lambda user, *argv: run(ws, user, *argv, monkeypatch=monkeypatch, capsys=capsys)


def test_deeply_nested_tag_map(cli, tmp_path):
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 50_000 + "]" * 50_000 + "\n", encoding="utf-8")
    refused(cli("erin", "acquire", "--tagmap", str(deep), "--duration", "1"), "deep.toml",
            "nested")


@pytest.mark.parametrize("params", ["junk", "{'a': 1}", "[1, 2]", "3", "null"])
def test_train_params_not_a_json_object(cli, params):
    refused(cli("erin", "train", "abcdef", "--line", "l1", "--params", params), "--params")


@pytest.mark.parametrize(("flag", "value"), [("--window", "0"), ("--window", "-5"),
                                             ("--hop", "0"), ("--window", "x"),
                                             ("--test-fraction", "2"),
                                             ("--test-fraction", "nan")])
def test_train_numbers_out_of_range(cli, flag, value):
    refused(cli("erin", "train", "abcdef", "--line", "l1", flag, value), flag)


@pytest.mark.parametrize("ref", ["pump-7:v99999999999999999999", "pump-7:v2147483648"])
def test_evaluate_with_a_huge_version_number(cli, ref):
    refused(cli("erin", "evaluate", ref, "abcdef"), ref.split(":")[1][1:])


def test_export_into_a_directory(cli, tmp_path):
    refused(cli("erin", "export", "pump-7:v1", str(tmp_path)), str(tmp_path), "folder")


def test_export_onto_proc_version(cli):
    if not Path("/proc/version").exists():
        pytest.skip("no /proc on this system")
    refused(cli("erin", "export", "pump-7:v1", "/proc/version"), "/proc/version", "--force")
    refused(cli("erin", "export", "pump-7:v1", "/proc/version", "--force"), "/proc/version")


def test_export_never_overwrites_without_force(cli, tmp_path):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"the engineer's earlier file")
    refused(cli("erin", "export", "pump-7:v1", str(target)), str(target), "--force")
    assert target.read_bytes() == b"the engineer's earlier file"
    code, out, err = cli("erin", "export", "pump-7:v1", str(target), "--force")
    assert code == 0, err
    assert target.read_bytes().startswith(b"\x08")  # an ONNX protobuf now


def test_export_into_a_missing_folder(cli, tmp_path):
    refused(cli("erin", "export", "pump-7:v1", str(tmp_path / "no" / "m.onnx")), "no")


def test_package_build_out_a_file(cli, tmp_path):
    file = tmp_path / "a-file"
    file.write_text("x", encoding="utf-8")
    refused(cli("omar", "package", "build", "pump-7:v1", "--out", str(file)), "--out",
            str(file))


@pytest.mark.parametrize("with_export", [False, True])
def test_audit_verify_key_missing(cli, tmp_path, with_export):
    args = ["audit", "verify", "--key", str(tmp_path / "missing.pem")]
    if with_export:
        code, out, err = cli("aud", "audit", "export", str(tmp_path / "exp"))
        assert code == 0, err
        args.insert(2, str(tmp_path / "exp"))
    refused(cli("aud", *args), "--key", "missing.pem")


def test_audit_verify_key_not_a_key(cli, tmp_path):
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key", encoding="utf-8")
    refused(cli("aud", "audit", "verify", "--key", str(junk)), "junk.pem")


def test_keys_export_to_a_directory(cli, tmp_path):
    refused(cli("boss", "keys", "export", str(tmp_path)), str(tmp_path), "folder")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this system")
@pytest.mark.parametrize("command", ["verify", "import"])
def test_15_12_package_verify_or_import_of_a_fifo_is_refused_not_hung(cli, tmp_path,
                                                                      command):
    fifo = tmp_path / "stick.plantml"
    os.mkfifo(fifo)
    result: dict = {}

    import threading

    done = threading.Event()

    def call():
        result["r"] = cli("omar", "package", command, str(fifo))
        done.set()

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    if not done.wait(30):
        # Release the reader blocked in open() so the thread can end, then fail.
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        worker.join(10)
        pytest.fail(f"package {command} of a FIFO hung")
    worker.join()
    refused(result["r"], "stick.plantml", "not a regular file")


def test_15_12_crash_log_is_in_the_workspace_and_owner_only(cli, ws, monkeypatch):
    from app.cli import cmd_audit

    def boom(args):
        raise RuntimeError("a bug the user must not see")

    monkeypatch.setattr(cmd_audit, "cmd_show", boom)
    code, _out, err = cli("aud", "audit", "show")
    assert code == cli_main.EXIT_INTERNAL
    assert "a bug the user must not see" not in err and "Traceback" not in err
    path = Path(err.strip().rsplit(" ", 1)[-1])
    assert path.is_file() and path.parent == ws / "logs", err
    assert path != Path(tempfile.gettempdir()) / "plantml-crash.log"
    assert "a bug the user must not see" in path.read_text(encoding="utf-8")
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0


def test_15_12_a_refusal_is_printed_once_and_on_its_own_line(ws, tmp_path):
    """A real process: library warnings must not repeat the refusal, and the progress bar's
    line is ended before the message."""
    junk = tmp_path / "junk.plantml"
    junk.write_bytes(b"this is not a zip")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLANTML_")}
    env.update(PLANTML_HOME=str(ws), PLANTML_USER="omar", PLANTML_PASSWORD="omar-password-1")
    r = subprocess.run([sys.executable, "-m", "app", "package", "import", str(junk)],
                       capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
                       stdin=subprocess.DEVNULL, check=False)
    assert r.returncode == 5, r.stderr
    assert r.stderr.count("not a readable package zip") == 1, r.stderr
    assert "WARNING" not in r.stderr
    lines = r.stderr.replace("\r", "\n").splitlines()
    assert any(ln.startswith("plantml: junk.plantml is not a readable package zip")
               for ln in lines), r.stderr
    assert "\nplantml: " in r.stderr or r.stderr.startswith("plantml: ")
