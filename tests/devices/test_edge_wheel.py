"""The lean edge runtime: the plantml-edge wheel installs into a clean venv with the runtime's
libraries only, starts there and takes a signed package flashed from the workstation side;
``plantml-edge serve`` takes the options of ``plantml controller serve``."""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from app.cli.cmd_controllers import register
from app.devices.controller.serve import edge_parser
from app.devices.flash import ControllerClient, Endpoint, flash_package
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, package, trust_operator, wait_for
from tests.packages.kit import HW, Kit

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "build" / "edge"  # the wheel, a wheel cache and the venv (for the bench)
#: Workstation libraries that must never reach an edge box.
FORBIDDEN = {"pyside6", "pyside6-essentials", "shiboken6", "pyqtgraph", "scikit-learn",
             "scipy", "sqlalchemy", "alembic", "pyarrow", "skl2onnx", "argon2-cffi",
             "platformdirs", "joblib", "threadpoolctl"}
#: Everything an edge install may hold: the runtime's libraries, what they need in turn,
#: and the venv's own installer.
ALLOWED = {"plantml-edge", "numpy", "onnxruntime", "onnx", "pymodbus", "pyserial",
           "cryptography", "cffi", "pycparser", "protobuf", "flatbuffers", "packaging",
           "ml-dtypes", "typing-extensions", "pip", "setuptools"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _builder():
    spec = importlib.util.spec_from_file_location("build_edge", ROOT / "installer" /
                                                  "build_edge.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _subparser(parser: argparse.ArgumentParser, *path: str) -> argparse.ArgumentParser:
    for name in path:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = sub.choices[name]
    return parser


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {opt: a for a in parser._actions for opt in a.option_strings
            if opt not in {"-h", "--help"}}


def test_edge_serve_takes_every_option_of_plantml_controller_serve():
    plantml = argparse.ArgumentParser()
    register(plantml.add_subparsers())
    workstation = _subparser(plantml, "controller", "serve")
    edge = _subparser(edge_parser(), "serve")
    ours, theirs = _options(edge), _options(workstation)
    assert set(theirs) <= set(ours), set(theirs) - set(ours)
    for opt, action in theirs.items():
        mine = ours[opt]
        assert (mine.default, mine.required, mine.nargs) == (action.default, action.required,
                                                             action.nargs), opt
        assert type(mine) is type(action), opt


def test_bad_options_get_one_readable_line(tmp_path):
    trust = tmp_path / "missing.json"
    r = subprocess.run([sys.executable, "-m", "app.devices.controller", "--state-dir",
                        str(tmp_path / "s"), "--hardware-id", "EDGE-01", "--trust", str(trust),
                        "--tcp", "127.0.0.1:0"], cwd=ROOT, capture_output=True, text=True,
                       timeout=120, check=False)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().endswith(f"the trust file {trust} does not exist (write it with "
                                     "'plantml keys export' on the workstation)")
    r = subprocess.run([sys.executable, "-c", "from app.devices.controller.serve import "
                        "edge_main; raise SystemExit(edge_main(['serve', '--state-dir', 's', "
                        "'--hardware-id', 'X', '--trust', 't.json']))"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 2 and "one of the arguments --tcp --serial is required" in r.stderr


def test_the_edge_pins_are_the_workstation_pins():
    edge = tomllib.loads((ROOT / "edge" / "pyproject.toml").read_text(encoding="utf-8"))
    main = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pins = {_norm(re.split(r"[<>=!~ ]", d, maxsplit=1)[0]): d
            for d in main["project"]["dependencies"]}
    for dep in edge["project"]["dependencies"]:
        name = _norm(re.split(r"[<>=!~ ]", dep, maxsplit=1)[0])
        assert pins.get(name) == dep, f"{dep} differs from the workstation's {pins.get(name)}"
    assert edge["project"]["version"] == main["project"]["version"]


def test_the_wheel_ships_the_runtime_and_no_workstation_module():
    modules = _builder().runtime_modules()
    assert "app.devices.controller.serve" in modules and "app.packages.verify" in modules
    rooms = {m.split(".")[1] for m in modules if m.count(".") >= 1}
    assert rooms == {"core", "devices", "fieldbus", "packages", "store"}, rooms
    assert not [m for m in modules if m.startswith(("app.devices.flash", "app.devices.sim",
                                                    "app.packages.usb", "app.packages.build",
                                                    "app.fieldbus.link"))]
    assert [m for m in modules if m.startswith("app.store")] == ["app.store",
                                                                 "app.store.durable"]


SERVICE = ROOT / "installer" / "edge"


def _unit_command(env: dict[str, str]) -> list[str]:
    """ExecStart of the systemd unit as systemd expands it: ${VAR} is one word, $VAR is split
    at whitespace."""
    text = (SERVICE / "plantml-edge.service").read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("ExecStart="))
    words = []
    for word in line.removeprefix("ExecStart=").split():
        if m := re.fullmatch(r"\$\{(\w+)\}", word):
            words.append(env[m.group(1)])
        elif m := re.fullmatch(r"\$(\w+)", word):
            words.extend(env[m.group(1)].split())
        else:
            words.append(word)
    return words


def _example_env() -> dict[str, str]:
    lines = (SERVICE / "edge.env").read_text(encoding="utf-8").splitlines()
    return dict(x.split("=", 1) for x in lines if x and not x.startswith("#"))


def test_the_service_files_run_plantml_edge_serve_with_options_it_takes():
    words = _unit_command(_example_env())
    assert words[0] == "/opt/plantml-edge/bin/plantml-edge"
    args = edge_parser().parse_args(words[1:])
    assert args.command == "serve" and args.tcp == "0.0.0.0:502"
    assert args.hardware_id == "ctrl-a1" and str(args.state_dir).startswith("/var/lib/")
    rtu = dict(_example_env(), PLANTML_EDGE_LISTEN="--serial /dev/ttyUSB0 --baud 115200")
    args = edge_parser().parse_args(_unit_command(rtu)[1:])
    assert args.serial == "/dev/ttyUSB0" and args.baud == 115200 and args.tcp is None
    # The Windows recipe passes only options plantml-edge serve has.
    script = (SERVICE / "install-service.ps1").read_text(encoding="utf-8")
    used = set(re.findall(r'"(--[a-z-]+)"', script))
    assert {"--state-dir", "--hardware-id", "--trust", "--log-level"} <= used
    assert used <= set(_options(_subparser(edge_parser(), "serve"))), used


def _site_packages(venv: Path) -> Path:
    found = sorted(venv.glob("lib/python3*/site-packages")) + sorted(
        venv.glob("Lib/site-packages"))
    return found[0]


def _bin(venv: Path, name: str) -> Path:
    return venv / ("Scripts" if sys.platform == "win32" else "bin") / name


def _tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def _install(wheel: Path, venv: Path) -> None:
    """Into a fresh venv, from a local wheel cache; the cache is filled from the package
    index only when it lacks something (the first run, or a changed pin)."""
    cache = OUT / "wheelhouse"
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    python = _bin(venv, "python")
    offline = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "--no-index", "--find-links", str(cache), str(wheel)]
    if subprocess.run(offline, capture_output=True, check=False).returncode != 0:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--dest",
                        str(cache), str(wheel)], check=True, capture_output=True)
        for stale in cache.glob("plantml_edge-*"):
            stale.unlink()  # the cache keeps dependencies, never the wheel under test
        subprocess.run(offline, check=True, capture_output=True)


def test_the_edge_wheel_installs_lean_starts_and_takes_a_flash(tmp_path):
    t0 = time.monotonic()
    wheel = _builder().build(OUT)
    built_s = time.monotonic() - t0
    venv = OUT / "venv"
    _install(wheel, venv)
    installed_s = time.monotonic() - t0 - built_s
    listed = json.loads(subprocess.run(
        [str(_bin(venv, "python")), "-m", "pip", "list", "--format=json",
         "--disable-pip-version-check"], capture_output=True, text=True, check=True).stdout)
    packages = {_norm(p["name"]): p["version"] for p in listed}
    assert not set(packages) & FORBIDDEN, set(packages) & FORBIDDEN
    assert set(packages) <= ALLOWED, set(packages) - ALLOWED
    site = _site_packages(venv)
    shipped = sorted(str(p.relative_to(site).with_suffix("")).replace(os.sep, ".")
                     .removesuffix(".__init__") for p in (site / "app").rglob("*.py"))
    assert shipped == _builder().runtime_modules()
    if shutil.which("systemd-analyze") and sys.platform != "win32":
        # The unit as shipped, pointed at the plantml-edge just installed.
        unit = tmp_path / "plantml-edge.service"
        unit.write_text((SERVICE / "plantml-edge.service").read_text(encoding="utf-8").replace(
            "/opt/plantml-edge/bin/plantml-edge", str(_bin(venv, "plantml-edge"))),
            encoding="utf-8")
        check = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                               text=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr

    # The runtime from that venv, run from an empty folder: nothing of this checkout on
    # its path.
    kit = trust_operator(Kit(root=tmp_path / "kit"))
    trust, replay = tmp_path / "trust.json", tmp_path / "replay.npy"
    kit.trust.save(trust)
    t = np.arange(8000) / 2000.0
    np.save(replay, np.sin(2 * np.pi * 50 * t)[np.newaxis].astype(np.float32))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(_bin(venv, "plantml-edge")), "serve", "--state-dir", str(tmp_path / "state"),
         "--hardware-id", HW, "--trust", str(trust), "--tcp", "127.0.0.1:0", "--replay",
         str(replay), "--rate", "2000", "--speed", "4"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # printed once the port answers; EOF if it died
        start_s = time.monotonic() - started
        assert f"controller {HW} serving on tcp:127.0.0.1:" in line, proc.stderr.read()
        endpoint = Endpoint.tcp("127.0.0.1", int(line.rsplit(":", 1)[1]))
        # From the workstation side: this repository's flash client and a signed package.
        path = package(kit, 1, created_at=datetime.now(UTC).replace(microsecond=0))
        out = flash_package(endpoint, path, policy=PATIENT, signer=OPERATOR)
        assert out.ok and out.status.active.version == 1
        with ControllerClient.open(endpoint, PATIENT, signer=OPERATOR) as c:
            live = wait_for(c.live, lambda lv: lv.inference_count >= 3, "inferences")
        assert len(live.scores) == 3 and abs(live.scores.sum() - 1) < 1e-5
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0 and "Traceback" not in err, err
    report = {"wheel": wheel.name, "wheel_kB": round(wheel.stat().st_size / 1e3, 1),
              "venv_MB": round(_tree_bytes(venv) / 1e6, 1),
              "site_packages_MB": round(_tree_bytes(site) / 1e6, 1),
              "packages": packages, "start_to_serving_s": round(start_s, 3),
              "build_s": round(built_s, 1), "install_s": round(installed_s, 1)}
    (OUT / "report.json").write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
