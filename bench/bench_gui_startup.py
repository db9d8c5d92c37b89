"""GUI start-up: process start to the main window shown (offscreen), PlantML against a bare
PySide6 window, run alternately in fresh processes; target at most 3 times the bare window.

Run: python bench/bench_gui_startup.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE = """
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
w = QMainWindow(); w.resize(1100, 700); w.show(); app.processEvents()
"""

PLANTML = """
import sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from app.services import open_services
from app.ui.main_window import MainWindow
from app.ui.task_runner import TaskRunner
sv = open_services(sys.argv[1])
me = sv.auth.login(username="admin", password="bench-admin-password")
runner = TaskRunner()
w = MainWindow(sv, runner, me); w.show(); app.processEvents()
w.close(); runner.shutdown(); sv.close()
"""


def timed(code: str, *args: str) -> float:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, *args], check=True, env=env,
                   cwd=Path(__file__).resolve().parents[1])
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    from app.security.passwords import HashParams
    from app.services import open_services

    with tempfile.TemporaryDirectory() as tmp:
        with open_services(tmp, create=True, hash_params=HashParams(1, 8192, 1)) as sv:
            sv.auth.bootstrap_admin(username="admin", password="bench-admin-password")
        timed(BARE)
        timed(PLANTML, tmp)  # warm the file cache for both
        bare, ours = [], []
        for _ in range(args.rounds):
            bare.append(timed(BARE))
            ours.append(timed(PLANTML, tmp))
    b, o = statistics.median(bare), statistics.median(ours)
    print(f"bare PySide6 window: {b:.2f} s; PlantML main window (workspace opened, signed "
          f"in, five pages built): {o:.2f} s; ratio {o / b:.2f} (target <= 3)")


if __name__ == "__main__":
    main()
