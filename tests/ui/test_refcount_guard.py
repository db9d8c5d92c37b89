"""The GUI survives PySide6 6.12 dropping references to None/True/False on CPython 3.11."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from app.ui import refcount_guard

ROOT = Path(__file__).resolve().parents[2]

# 200 000 void calls and signal emits: far more references than None or True hold on their
# own, so without the guard an affected interpreter aborts ("none_dealloc").
STRESS = textwrap.dedent("""
    import app.ui
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication, QLabel

    class Emitter(QObject):
        sig_ping = Signal(int)

    qapp = QApplication([])
    label, emitter = QLabel(), Emitter()
    for i in range(200_000):
        label.setText("x")
        emitter.sig_ping.emit(i)
    print("survived")
""")


def test_many_qt_calls_do_not_crash_the_interpreter():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-c", STRESS], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "survived"


def test_guard_is_applied_only_where_needed():
    applied = refcount_guard.protect_singletons()
    if sys.version_info >= (3, 12):
        assert not applied, "immortal singletons need no help"
    if applied:
        for singleton in (None, True, False):
            assert sys.getrefcount(singleton) > refcount_guard.HEADROOM // 2
