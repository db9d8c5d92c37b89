"""``plantml doctor``: the installation's self-test, one line per check."""

from __future__ import annotations

import os
import subprocess

from app.core.child import module_command
from app.services.doctor import SelfTestFailed, run_self_test

QT_TIMEOUT_S = 60.0


def qt_platform() -> str:
    """Qt's platform plugin loads, in a child process (a broken plugin aborts its process)."""
    try:
        done = subprocess.run(module_command("app.ui.platform_check"), capture_output=True,
                              text=True, timeout=QT_TIMEOUT_S, env=dict(os.environ),
                              stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        raise SelfTestFailed(f"the Qt probe did not finish within {QT_TIMEOUT_S:g} s") from None
    if done.returncode != 0:
        # Qt says what is missing first (a library, a display) and lists plugins last.
        said = [line.removeprefix("qt.qpa.plugin: ").strip()
                for line in (done.stderr or done.stdout).splitlines()
                if line.strip() and not line.startswith("Available platform plugins")]
        raise SelfTestFailed(f"Qt did not start (exit {done.returncode}): "
                             f"{' '.join(said[:2])[:400] if said else 'no message'}")
    lines = done.stdout.strip().splitlines()
    return f"platform plugin {lines[-1] if lines else '?'} loads"


def cmd_doctor(args) -> int:
    """Print every check; exit 1 if any failed."""
    checks = run_self_test(args.home, extra=(("Qt", qt_platform),))
    for check in checks:
        print(check.line())
    failed = [c.name for c in checks if not c.ok]
    print(f"self-test {'FAILED: ' + ', '.join(failed) if failed else 'passed'}")
    return 1 if failed else 0


def register(sub) -> None:
    """Add the command to the argparse sub-parsers."""
    sub.add_parser("doctor", help="check this installation: kernels, onnxruntime, Qt, serial "
                   "ports, workspace, clock, disk").set_defaults(func=cmd_doctor)
