"""Entry point of the desktop application (``plantml gui``)."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from app.core.errors import PlantMLError
from app.core.principal import Principal
from app.services import Services, open_services
from app.ui.dialogs.login_dialog import LoginDialog
from app.ui.look import apply_look, install_translator
from app.ui.main_window import MainWindow
from app.ui.session_end import EndKind, SessionOutcome
from app.ui.task_runner import INTERNAL_ERROR, TaskRunner
from app.ui.window_settings import selftest_due

log = logging.getLogger(__name__)

LOG_NAME = "plantml-gui.log"
TITLE = "PlantML"


def run_gui(home: str | Path | None = None, snapshot: Path | None = None) -> int:
    """Open (creating if needed) the workspace, sign in, show the main window; after Sign
    out the sign-in comes back, after Switch user the window opens for the new user.
    Returns the exit code: 0 after a normal close or a cancelled sign-in, 1 if the workspace
    could not be opened. With ``snapshot``, the sign-in dialog is saved there as a PNG
    instead of waiting for a user (how an installation check sees the GUI come up)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(TITLE)
    old_style = app.styleSheet()
    translator = install_translator(app)
    apply_look(app)
    try:
        return _run_workspace(app, home, snapshot)
    finally:
        app.setStyleSheet(old_style)
        if translator is not None:
            app.removeTranslator(translator)


def _run_workspace(app: QApplication, home: str | Path | None, snapshot: Path | None) -> int:
    try:
        # create=True: on the first run this makes the workspace, and the login dialog then
        # creates the administrator; an existing workspace is simply opened.
        services = open_services(home, create=True)
    except PlantMLError as exc:
        log.error("workspace not opened: %s", exc)
        show_error(None, str(exc))
        return 1
    except OSError as exc:
        # Folder creation happens before open_services wraps I/O errors (a file in the way,
        # no permission): still the user's to fix, so say what the system said.
        log.error("workspace not opened: %s", exc)
        show_error(None, f"the workspace could not be opened: {exc}")
        return 1
    except Exception:  # noqa: BLE001 - never a traceback on screen; the log has it
        log.exception("workspace not opened")
        show_error(None, INTERNAL_ERROR)
        return 1

    handler = _log_to_workspace(services)
    old_hook = sys.excepthook
    sys.excepthook = _excepthook
    runner = TaskRunner()
    # The session decides when the application ends (after its jobs stopped), not the last
    # window: between Sign out and the next sign-in no window is open.
    quit_on_last = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)
    try:
        if snapshot is not None:
            return _save_snapshot(LoginDialog(services, runner), snapshot)
        first_start = selftest_due(services.home)
        principal = _sign_in(services, runner)
        while principal is not None:
            window = MainWindow(services, runner, principal, first_start=first_start)
            first_start = False
            outcome = _run_session(window)
            window.deleteLater()
            if outcome.kind is EndKind.QUIT:
                break
            principal = outcome.next_principal or _sign_in(services, runner)
        return 0
    finally:
        app.setQuitOnLastWindowClosed(quit_on_last)
        runner.shutdown()
        services.close()
        sys.excepthook = old_hook
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()


def _sign_in(services: Services, runner: TaskRunner) -> Principal | None:
    """The sign-in dialog (the first administrator on a new workspace); None if cancelled."""
    dialog = LoginDialog(services, runner)
    try:
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        return dialog.principal
    finally:
        dialog.deleteLater()


def _run_session(window: MainWindow) -> SessionOutcome:
    """Show ``window`` and run the events until its session ended (its jobs stopped)."""
    loop = QEventLoop()
    ended: list[SessionOutcome] = []

    def over(outcome: SessionOutcome) -> None:
        ended.append(outcome)
        loop.quit()

    window.sig_session_ended.connect(over)
    window.show()
    if not ended:
        loop.exec()
    # QApplication.quit() (Ctrl+C in the console) ends every loop: treat it as Quit.
    return ended[0] if ended else SessionOutcome(EndKind.QUIT)


def _save_snapshot(dialog: QDialog, path: Path) -> int:
    """Show ``dialog``, let it lay out and paint, save it as a PNG; 0 if the file was written."""
    dialog.show()
    QApplication.processEvents()
    saved = dialog.grab().save(str(path), "PNG")
    dialog.close()
    if not saved:
        log.error("snapshot not written to %s", path)
    return 0 if saved else 1


def show_error(parent: QWidget | None, text: str) -> None:
    """A modal error box with ``text``."""
    QMessageBox.critical(parent, TITLE, text)


def _log_to_workspace(services: Services) -> logging.Handler | None:
    """Send warnings and errors to the workspace's log folder, where "see log" points."""
    folder = services.paths.logs
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(folder / LOG_NAME, encoding="utf-8")
    except OSError as exc:
        log.warning("no log file in %s: %s", folder, exc)
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


_in_hook = threading.Lock()


def _excepthook(kind: type[BaseException], exc: BaseException,
                tb: TracebackType | None) -> None:
    """An exception escaped a slot: log it with its traceback, tell the user briefly."""
    log.error("unhandled exception in the GUI", exc_info=(kind, exc, tb))
    if isinstance(exc, KeyboardInterrupt):
        QApplication.quit()
        return
    # The message box runs an event loop; a second failure inside it must not stack boxes.
    if not _in_hook.acquire(blocking=False):
        return
    try:
        text = str(exc) if isinstance(exc, PlantMLError) else INTERNAL_ERROR
        show_error(QApplication.activeWindow(), text)
    finally:
        _in_hook.release()
