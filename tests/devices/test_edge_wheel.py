"""The lean edge runtime: ``plantml-edge serve`` takes the options of ``plantml controller
serve``, and refuses bad ones with one readable line."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from app.cli.cmd_controllers import register
from app.devices.controller.serve import edge_parser

ROOT = Path(__file__).resolve().parents[2]


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
    assert r.stderr.strip().endswith(f"the trust store {trust} cannot be read: [Errno 2] No "
                                     f"such file or directory: '{trust}'")
    r = subprocess.run([sys.executable, "-c", "from app.devices.controller.serve import "
                        "edge_main; raise SystemExit(edge_main(['serve', '--state-dir', 's', "
                        "'--hardware-id', 'X', '--trust', 't.json']))"], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, check=False)
    assert r.returncode == 2 and "one of the arguments --tcp --serial is required" in r.stderr
