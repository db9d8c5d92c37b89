"""Entry point of the desktop application (``plantml gui``)."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from app.core.errors import PlantMLError
from app.core.principal import Principal
from app.ui.dialogs.login_dialog import LoginDialog
from app.ui.look import apply_look, install_translator
from app.ui.session_end import EndKind, SessionOutcome
from app.ui.task_runner import INTERNAL_ERROR, TaskRunner
from app.ui.window_settings import selftest_due

if TYPE_CHECKING:  # the services load in the background at start-up (see _Opening)
    from app.services import Services
    from app.ui.main_window import MainWindow

log = logging.getLogger(__name__)

LOG_NAME = "plantml-gui.log"
TITLE = "PlantML"


def _application() -> QApplication:
    """The process's QApplication, made now if there is none yet."""
    app = QApplication.instance()
    if app is None:
        return QApplication(sys.argv[:1])
    if not isinstance(app, QApplication):
        raise RuntimeError("a Qt application without widgets is already running")
    return app


def run_gui(home: str | Path | None = None, snapshot: Path | None = None) -> int:
    """Show the sign-in at once while the workspace opens (created if needed), then the main
    window; after Sign out the sign-in comes back, after Switch user the window opens for
    the new user. Returns the exit code: 0 after a normal close or a cancelled sign-in, 1
    if the workspace could not be opened. With ``snapshot``, the sign-in dialog is saved
    there as a PNG once the workspace is open, instead of waiting for a user (how an
    installation check sees the GUI come up)."""
    app = _application()
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


class _Opening:
    """The workspace being opened on the runner while the sign-in dialog is already up."""

    def __init__(self, dialog: LoginDialog, runner: TaskRunner,
                 home: str | Path | None) -> None:
        self.services: Services | None = None
        self.error = ""
        self.done = False
        self._dialog = dialog
        self._waiting: QEventLoop | None = None

        def open_workspace() -> tuple[Services, bool]:
            # The services' libraries (SQLAlchemy, Alembic, NumPy, ...) load here, off the
            # GUI thread, while the user types. create=True: on the first run this makes
            # the workspace and the dialog then creates the administrator.
            from app.services import open_services

            services = open_services(home, create=True)
            return services, services.auth.needs_admin()

        runner.submit(open_workspace, on_done=self._opened, on_error=self._failed,
                      cancellable=False, writes=False)

    def wait(self) -> None:
        """Run the events until the workspace is open or refused."""
        if not self.done:
            self._waiting = QEventLoop()
            self._waiting.exec()
            self._waiting = None

    def _opened(self, result: tuple[Services, bool]) -> None:
        self.services, first_run = result
        self._finish()
        self._dialog.set_services(self.services, first_run)

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, PlantMLError):
            self.error = str(exc)
        elif isinstance(exc, OSError):
            # Folder creation happens before open_services wraps I/O errors (a file in the
            # way, no permission): still the user's to fix, so say what the system said.
            self.error = f"the workspace could not be opened: {exc}"
        else:  # the runner logged the traceback; never one on screen
            self.error = INTERNAL_ERROR
        log.error("workspace not opened: %s", exc)
        self._finish()
        self._dialog.done(QDialog.DialogCode.Rejected)

    def _finish(self) -> None:
        self.done = True
        if self._waiting is not None:
            self._waiting.quit()


def _run_workspace(app: QApplication, home: str | Path | None, snapshot: Path | None) -> int:
    runner = TaskRunner()
    # The session decides when the application ends (after its jobs stopped), not the last
    # window: between Sign out and the next sign-in no window is open.
    quit_on_last = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)
    old_hook = sys.excepthook
    sys.excepthook = _excepthook
    handler: logging.Handler | None = None
    dialog = LoginDialog(None, runner, home=Path(home) if home is not None else None)
    opening = _Opening(dialog, runner, home)
    try:
        if snapshot is not None:
            opening.wait()
            if opening.error:
                show_error(None, opening.error)
                return 1
            return _save_snapshot(dialog, snapshot)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        if opening.error:
            show_error(None, opening.error)
            return 1
        services = opening.services
        if not accepted or services is None or dialog.principal is None:
            return 0
        handler = _log_to_workspace(services)
        return _run_sessions(services, runner, dialog.principal)
    finally:
        dialog.deleteLater()
        app.setQuitOnLastWindowClosed(quit_on_last)
        runner.shutdown()  # also lets a workspace still opening finish, to be closed here
        if opening.services is not None:
            opening.services.close()
        sys.excepthook = old_hook
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()


def _run_sessions(services: Services, runner: TaskRunner, principal: Principal | None) -> int:
    """Main window after main window: after Sign out the sign-in comes back, after Switch
    user the window opens for the new user; Quit ends it. Returns the exit code."""
    # The pages and their libraries are imported once someone has signed in.
    from app.ui.main_window import MainWindow

    first_start = selftest_due(services.home)
    while principal is not None:
        window = MainWindow(services, runner, principal, first_start=first_start)
        first_start = False
        outcome = _run_session(window)
        window.deleteLater()
        if outcome.kind is EndKind.QUIT:
            break
        principal = outcome.next_principal or _sign_in(services, runner)
    return 0


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
