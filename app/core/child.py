"""The command line that runs one of our modules as a child process, frozen or not."""

from __future__ import annotations

import runpy
import sys

#: First argument of a frozen executable that runs a module instead of the application.
RUN_MODULE = "--run-module"


def module_command(module: str, *args: str) -> list[str]:
    """``python -m module args`` for this interpreter, or its frozen-bundle equivalent.

    A PyInstaller executable has no ``-m``; it takes ``--run-module`` (see run_module_from).
    """
    if getattr(sys, "frozen", False):
        return [sys.executable, RUN_MODULE, module, *args]
    return [sys.executable, "-m", module, *args]


def run_module_from(argv: list[str]) -> bool:
    """If argv asks for ``--run-module MODULE ARGS...``, run it as ``__main__`` and return True.

    Called first by the frozen entry points, so a child started with module_command runs the
    same code as ``python -m MODULE`` would.
    """
    if len(argv) < 3 or argv[1] != RUN_MODULE:
        return False
    sys.argv = [argv[2], *argv[3:]]
    runpy.run_module(argv[2], run_name="__main__", alter_sys=True)
    return True
