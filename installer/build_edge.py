"""Build the plantml-edge wheel: the controller runtime and the app modules it imports, only.

    python installer/build_edge.py [--out build/edge]   ->  build/edge/dist/plantml_edge-*.whl

The module set is not a hand-kept list: it is app/devices/controller plus every ``app``
module reachable from it through import statements (read with ``ast``, so imports inside
functions count too, those under TYPE_CHECKING do not), plus their parent packages. When the runtime
starts using another module, the next build ships it. The modules are copied next to
edge/pyproject.toml in a staging folder and pip builds the wheel there (setuptools).
Runs the same on Windows and Linux.
"""

from __future__ import annotations

import argparse
import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: The runtime: this package and every module in it.
ENTRY_PACKAGE = "app.devices.controller"


def module_path(name: str, root: Path = ROOT) -> Path | None:
    """The source file of module ``name`` under ``root`` (a package's __init__.py)."""
    base = root.joinpath(*name.split("."))
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _is_type_checking(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (never imported at run time)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        if _is_type_checking(node):
            assert isinstance(node, ast.If)
            todo.extend(node.orelse)
            continue
        todo.extend(ast.iter_child_nodes(node))


def imported_modules(name: str, root: Path = ROOT) -> set[str]:
    """The ``app`` modules that module ``name`` imports, wherever the import statement is
    (also inside functions), except under ``if TYPE_CHECKING:``."""
    path = module_path(name, root)
    assert path is not None, name
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "app")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = _package_of(name, path).split(".")
                parts = parts[:len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != "app":
                continue
            found.add(base)
            # `from app.packages import verify` imports a module, not a name.
            found.update(f"{base}.{a.name}" for a in node.names
                         if module_path(f"{base}.{a.name}", root) is not None)
    return {m for m in found if module_path(m, root) is not None}


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def runtime_modules(root: Path = ROOT) -> list[str]:
    """Every module the edge wheel ships, sorted."""
    package_dir = root.joinpath(*ENTRY_PACKAGE.split("."))
    todo = [ENTRY_PACKAGE] + [f"{ENTRY_PACKAGE}.{p.stem}" for p in package_dir.glob("*.py")
                              if p.stem != "__init__"]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(imported_modules(name, root) | set(_parents(name)))
    return sorted(seen)


def stage(out: Path, root: Path = ROOT) -> Path:
    """Copy the runtime's modules and the edge project files into ``out``/stage."""
    folder = out / "stage"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    for name in runtime_modules(root):
        src = module_path(name, root)
        assert src is not None
        dst = folder / src.relative_to(root)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    for extra in ("pyproject.toml", "README.md"):
        shutil.copy2(root / "edge" / extra, folder / extra)
    return folder


def build(out: Path, python: str = sys.executable) -> Path:
    """Stage and build; returns the wheel's path."""
    folder = stage(out)
    dist = out / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    subprocess.run([python, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir",
                    str(dist), str(folder)], check=True)
    # setuptools leaves its build folder in the stage; nothing else should be there.
    wheels = sorted(dist.glob("plantml_edge-*.whl"))
    if len(wheels) != 1:
        raise SystemExit(f"expected one plantml_edge wheel in {dist}, found {wheels}")
    return wheels[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "edge")
    ap.add_argument("--list", action="store_true", help="only print the modules it ships")
    args = ap.parse_args(argv)
    if args.list:
        print("\n".join(runtime_modules()))
        return 0
    wheel = build(args.out.resolve())
    print(f"{wheel} ({wheel.stat().st_size / 1e3:.0f} kB, {len(runtime_modules())} modules)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
