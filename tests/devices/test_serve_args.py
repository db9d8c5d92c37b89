"""Issue 15.12 (device part): `controller serve` and `plantml-edge serve` refuse what could not
run with one readable sentence naming the value, exit 2, never a traceback."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from app.devices.controller.serve import main
from app.packages.trust import TrustStore
from tests.devices.kit import HW
from tests.packages.kit import Kit


@pytest.fixture
def base(tmp_path: Path) -> list[str]:
    trust = tmp_path / "trust.json"
    Kit(root=tmp_path).trust.save(trust)
    return ["--state-dir", str(tmp_path / "state"), "--hardware-id", HW, "--trust", str(trust),
            "--tcp", "127.0.0.1:0"]


def _junk(tmp_path: Path, name: str, data: bytes) -> str:
    (tmp_path / name).write_bytes(data)
    return str(tmp_path / name)


def _override(base: list[str], option: str, value: str) -> list[str]:
    out = list(base)
    if option in out:
        out[out.index(option) + 1] = value
    else:
        out += [option, value]
    return out


CASES = [
    ("--trust", lambda t: str(t / "absent.json"), "the trust file .*absent.json does not exist"),
    ("--trust", lambda t: _junk(t, "junk.json", b"junk\n"), "junk.json is not a PlantML trust"),
    ("--trust", lambda t: _junk(t, "list.json", b"[1, 2]"), "list.json is not a PlantML trust"),
    ("--trust", lambda t: _junk(t, "bin.json", b"\xff\xfe\x00"), "bin.json is not a PlantML"),
    ("--tcp", lambda t: "127.0.0.1:70000", "port 0 to 65535"),
    ("--tcp", lambda t: "127.0.0.1:-1", "port 0 to 65535"),
    ("--tcp", lambda t: "127.0.0.1:http", "port 0 to 65535"),
    ("--tcp", lambda t: "no-port", "HOST:PORT"),
    ("--duration", lambda t: "nan", "--duration must be a positive"),
    ("--duration", lambda t: "-1", "--duration must be a positive"),
    ("--speed", lambda t: "inf", "--speed must be a positive"),
    ("--rate", lambda t: "0", "--rate must be a positive"),
    ("--hardware-id", lambda t: "x" * 29, "hardware id is 1 to 28 printable ASCII"),
    ("--hardware-id", lambda t: "büro", "hardware id is 1 to 28 printable ASCII"),
    ("--hardware-id", lambda t: "", "hardware id is 1 to 28 printable ASCII"),
    ("--unit", lambda t: "0", "unit id is 1 to 247"),
    ("--commit-deadline", lambda t: "0", "commit deadline is 1 to 86400"),
    ("--replay", lambda t: _junk(t, "junk.npz", b"junk" * 10), "junk.npz is not a readable"),
    ("--replay", lambda t: _junk(t, "zip.npz", b"PK\x03\x04" + b"\x00" * 40),
     "zip.npz is not a readable"),
    ("--replay", lambda t: str(t / "absent.npz"), "absent.npz is not a readable"),
]


@pytest.mark.parametrize("option, value, match", CASES, ids=[f"{c[0]}-{i}"
                                                             for i, c in enumerate(CASES)])
def test_bad_option_is_one_sentence(base, tmp_path, capsys, option, value, match) -> None:
    assert main(_override(base, option, value(tmp_path))) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert err.startswith("python -m app.devices.controller: error: ")
    assert re.search(match, err), err


def test_trust_file_without_keys_is_refused(base, tmp_path, capsys) -> None:
    TrustStore().save(tmp_path / "empty.json")
    assert main(_override(base, "--trust", str(tmp_path / "empty.json"))) == 2
    assert "names no signing key" in capsys.readouterr().err


def test_replay_without_the_channel_is_refused(base, tmp_path, capsys) -> None:
    np.savez(tmp_path / "rec.npz", DE=np.zeros(100, dtype=np.float32))
    args = _override(base, "--replay", str(tmp_path / "rec.npz")) + ["--channel", "FE"]
    assert main(args) == 2
    assert "has no channel 'FE'" in capsys.readouterr().err


def test_port_in_use_is_one_sentence(base, capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(_override(base, "--tcp", f"127.0.0.1:{port}")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "did not start" in err


def test_duration_ends_the_serve(base, capsys) -> None:
    assert main(base + ["--duration", "0.2"]) == 0
    assert "serving on tcp:127.0.0.1:" in capsys.readouterr().out


def test_the_serving_line_names_the_unit(base, capsys) -> None:
    """What it prints is the target a workstation uses, unit id included."""
    assert main(base + ["--unit", "12", "--duration", "0.2"]) == 0
    assert re.search(r"serving on tcp:127\.0\.0\.1:\d+#unit=12$", capsys.readouterr().out,
                     re.MULTILINE)


def test_cli_controller_serve_refuses_without_traceback(base, tmp_path) -> None:
    args = _override(base, "--duration", "nan")
    done = subprocess.run([sys.executable, "-m", "app", "controller", "serve", *args],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == "plantml controller serve: error: --duration must be a " \
        "positive number of seconds or a factor, not nan"
