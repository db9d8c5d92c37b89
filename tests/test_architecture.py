"""The layer contracts of DESIGN.md section 3 and the lint rules are checked by the test run."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run installer/dev-setup.sh")
    return found


def test_import_contracts_hold():
    r = subprocess.run([_tool("lint-imports")], cwd=ROOT, capture_output=True, text=True,
                       check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


def test_ruff_lint_is_clean():
    r = subprocess.run([_tool("ruff"), "check", "app", "tests", "bench", "installer",
                        "setup.py"], cwd=ROOT,
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_module_has_a_docstring():
    missing = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        if "versions" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        if not ast.get_docstring(tree):
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, missing


def test_only_the_ui_package_imports_qt():
    offenders = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        if path.relative_to(ROOT / "app").parts[0] == "ui":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n.split(".")[0] in {"PySide6", "shiboken6", "pyqtgraph"} for n in names):
                offenders.append(str(path.relative_to(ROOT)))
    assert not offenders, offenders


def test_a_command_line_start_does_not_load_the_model_libraries():
    """Every `plantml` command imports the services; scikit-learn and scipy.stats (about 1.5 s
    of a 3 s start) load when a model is trained, explained or judged for drift, not then."""
    probe = ("import sys, app.cli.main; "
             "print(sorted(m for m in ('sklearn', 'scipy.stats') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True,
                         text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
