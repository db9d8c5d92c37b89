"""Screenshots of every page of the GUI, one set per role, under a real X server (Xvfb), for
the next review to compare: build/screenshots/<role>-<page>.png at 1600x1000, plus the
sign-in, the lock, the self-test and the German navigation.

A throwaway workspace gets a labelled dataset, a trained, proposed and approved model, and
a reference controller on 127.0.0.1 running it, so the pages show the loop, not empty
tables. Run: python bench/screenshots.py [--out build/screenshots] [--display :71]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SIZE = (1600, 1000)
PASSWORDS = {"admin": "admin-shots-1234", "erin": "erin-shots-1234",
             "avery": "avery-shots-1234", "omar": "omar-shots-1234",
             "aud": "aud-shots-1234"}
ROLES = {"engineer": "erin", "approver": "avery", "operator": "omar", "auditor": "aud",
         "admin": "admin"}
SAMPLES = 16_384


def start_xvfb(display: str) -> subprocess.Popen:
    """Xvfb on ``display`` at the screenshots' size; waits until it accepts clients."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        raise SystemExit("Xvfb is not installed (apt-get install xvfb)")
    proc = subprocess.Popen([xvfb, display, "-screen", "0", f"{SIZE[0]}x{SIZE[1]}x24",
                             "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    socket = Path("/tmp/.X11-unix") / f"X{display.lstrip(':')}"
    for _ in range(200):
        if socket.exists():
            return proc
        if proc.poll() is not None:
            raise SystemExit(f"Xvfb {display} did not start (exit {proc.returncode})")
        time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"Xvfb {display} did not come up")


def populate(home: Path, tmp: Path):
    """Accounts per role, a labelled synthetic pump dataset, pump-7 v1 trained, proposed
    and approved for EDGE-01, and the reference controller running it; returns
    (services, people, controller)."""
    import numpy as np

    from app.data.synthetic import STATES, vibration
    from app.security.passwords import HashParams
    from app.services import open_services
    from app.services.controller_runtime import start_controller
    from app.services.options import binary_options
    from app.services.recipes import make_recipe

    sv = open_services(home, create=True, hash_params=HashParams(1, 8192, 1))
    admin = sv.auth.bootstrap_admin(username="admin", password=PASSWORDS["admin"])
    for name, role in (("erin", "engineer"), ("avery", "approver"), ("omar", "operator"),
                       ("aud", "auditor")):
        sv.users.add(admin, username=name, password=PASSWORDS[name], roles=[role])
    people = {name: sv.auth.login(username=name, password=PASSWORDS[name])
              for name in PASSWORDS}
    erin, avery = people["erin"], people["avery"]
    paths = []
    for k, state in enumerate(STATES):
        path = tmp / f"pump-{state}.npz"
        np.savez(path, acc=vibration(state, SAMPLES, seed=k))
        paths.append(path)
    ds = sv.data_in.import_files(erin, paths=paths, name="pump 7 bearings",
                                 binary=binary_options(keys=["acc"], sample_rate=12_000.0)
                                 ).dataset
    for i, state in enumerate(STATES):
        sv.datasets.label(erin, dataset=ds.dataset_id, recording=i, label=state)
    version = sv.training.train(erin, dataset=ds.dataset_id, line="pump-7",
                                recipe=make_recipe(seed=0), window=1024, hop=1024).version
    sv.approvals.propose(erin, ref=version.ref, password=PASSWORDS["erin"],
                         hardware_ids=["EDGE-01"], reason="validated on held-out recordings")
    sv.approvals.decide(avery, ref=version.ref, password=PASSWORDS["avery"],
                        meaning="approved", reason="validation and parity reviewed")
    sv.training.train(erin, dataset=ds.dataset_id, line="pump-7",
                      recipe=make_recipe(seed=1), window=1024, hop=1024)
    trust = tmp / "trust.json"
    sv.keys.export(admin, path=trust)
    controller = start_controller(state_dir=tmp / "edge", hardware_id="EDGE-01", trust=trust,
                                  tcp="127.0.0.1:0",
                                  replay=vibration("healthy", 120_000)[None, :],
                                  commit_deadline_s=30)
    sv.controllers.flash(people["omar"], ref=version.ref, target=controller.target)
    sv.audit.verify(people["aud"])
    return sv, people, controller


def settle(app, runner, ms: int = 300) -> None:
    """Let the jobs end and the window lay out and paint."""
    from PySide6.QtCore import QEventLoop, QTimer

    runner.wait_idle(30_000)
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()
    runner.wait_idle(30_000)
    app.processEvents()


def grab(widget, path: Path) -> None:
    """What the X server shows of ``widget``'s window, frame included."""
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    frame = widget.frameGeometry()
    shot = widget.screen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
    if shot.isNull() or not shot.save(str(path), "PNG"):
        raise SystemExit(f"could not save {path}")
    print(f"  {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


def shoot(out: Path) -> None:
    """Every page per role, and the dialogs around the session."""
    from PySide6.QtCore import QLocale
    from PySide6.QtWidgets import QApplication

    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # the unreachable port's frames
    app = QApplication.instance() or QApplication([])
    from app.ui.dialogs.login_dialog import LoginDialog
    from app.ui.look import apply_look, install_translator
    from app.ui.main_window import MainWindow
    from app.ui.navigation import PAGE_NAMES
    from app.ui.task_runner import TaskRunner

    apply_look(app)
    tmp = Path(tempfile.mkdtemp(prefix="plantml-shots-"))
    sv, people, controller = populate(tmp / "ws", tmp)
    runner = TaskRunner()
    try:
        login = LoginDialog(sv, runner)
        login.username_edit.setText("erin")
        login.show()
        settle(app, runner)
        grab(login, out / "sign-in.png")
        login.close()
        for role, name in ROLES.items():
            window = MainWindow(sv, runner, people[name], idle_lock_s=0)
            window.setGeometry(0, 0, *SIZE)
            window.show()
            settle(app, runner)
            for page in PAGE_NAMES:
                window.show_page(page)
                if page == "Controllers":
                    _watch(window, controller.target, app, runner)
                settle(app, runner)
                grab(window, out / f"{role}-{page.lower()}.png")
            if role == "operator":
                window.controllers_view.stop_watch()
            if role == "auditor":
                dialog = window.self_test()
                settle(app, runner, 500)
                grab(dialog, out / "self-test.png")
                dialog.close()
                window.lock("locked by the user")
                settle(app, runner)
                grab(window.unlock_dialog, out / "locked.png")
            window.close()
            settle(app, runner)
        german = install_translator(app, QLocale("de_DE"))
        window = MainWindow(sv, runner, people["erin"], idle_lock_s=0)
        window.setGeometry(0, 0, *SIZE)
        window.show()
        settle(app, runner)
        grab(window, out / "engineer-data-de.png")
        window.close()
        settle(app, runner)
        if german is not None:
            app.removeTranslator(german)
        small = MainWindow(sv, runner, people["avery"], idle_lock_s=0)
        small.setGeometry(0, 0, 1100, 700)
        small.show()
        settle(app, runner)
        grab(small, out / "approver-models-1100x700.png")
        small.close()
        settle(app, runner)
    finally:
        runner.shutdown(30_000)
        controller.stop()
        sv.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _watch(window, target: str, app, runner) -> None:
    """On the Controllers page: add the running controller, scan, and watch a few polls."""
    view = window.controllers_view
    if target not in view.endpoints():
        view.add_endpoint(target)
    view.scan()
    settle(app, runner)
    if view.select(target) and view.watch_button.isEnabled():
        view.watch.timer.setInterval(200)
        view.start_watch()
        for _ in range(12):
            settle(app, runner, 200)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "screenshots")
    ap.add_argument("--display", default=":71")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.child:
        sys.path.insert(0, str(ROOT))
        shoot(args.out.resolve())
        return
    xvfb = start_xvfb(args.display)
    try:
        env = dict(os.environ, DISPLAY=args.display, QT_QPA_PLATFORM="xcb",
                   XDG_CONFIG_HOME=tempfile.mkdtemp(prefix="plantml-shots-config-"))
        print(f"screenshots on Xvfb {args.display} into {args.out}")
        subprocess.run([sys.executable, __file__, "--child", "--out", str(args.out)],
                       env=env, cwd=ROOT, check=True)
    finally:
        xvfb.terminate()
        xvfb.wait(10)


if __name__ == "__main__":
    main()
