"""The installed Qt binding keeps the reference counts of None, True and False.

PySide6-Essentials 6.12.0 on CPython 3.11 returns these singletons from void calls and
signal emits without a reference for the caller, so each call drops one; the interpreter
aborts once a count reaches zero. The dependency pin excludes that release; this test fails
if whatever is installed has the bug (on CPython 3.12+ the singletons are immortal and
their counts never move, so it passes trivially there).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CALLS = 1000

PROBE = textwrap.dedent(f"""
    import sys
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication, QLabel

    class Emitter(QObject):
        sig_ping = Signal(int)

    qapp = QApplication([])
    obj, label, emitter = QObject(), QLabel(), Emitter()
    counts = []
    for singleton, call in ((None, lambda: obj.setObjectName("probe")),
                            (None, lambda: label.setText("x")),
                            (True, obj.destroyed.emit),
                            (None, lambda: emitter.sig_ping.emit(1))):
        before = sys.getrefcount(singleton)
        for _ in range({CALLS}):
            call()
        counts.append(sys.getrefcount(singleton) - before)
    print(" ".join(map(str, counts)))
""")


def test_void_calls_and_emits_keep_singleton_refcounts():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    deltas = [int(v) for v in done.stdout.split()]
    # A few references may come and go with other objects; a leak is one per call.
    assert all(d > -CALLS // 2 for d in deltas), (
        f"the installed PySide6 drops a reference to None/True on every call "
        f"(count changes over {CALLS} calls: {deltas}); pin a release without the bug")


# Ways to reach interpreter objects through ctypes; calling a documented OS API (the USB
# drive listing asks kernel32 for drive types) is not among them.
INTERPRETER_ACCESS = ("pythonapi", "from_address", "py_object", "PyDLL", "ob_refcnt")


def test_no_ctypes_access_to_interpreter_objects():
    offenders = [f"{p.relative_to(ROOT)}: {word}" for p in (ROOT / "app").rglob("*.py")
                 for word in INTERPRETER_ACCESS
                 if "ctypes" in (text := p.read_text(encoding="utf-8")) and word in text]
    assert not offenders, f"ctypes reaches interpreter objects in {offenders}"
