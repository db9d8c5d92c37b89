"""Entry point of the desktop application (``plantml gui``)."""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from types import TracebackType

from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from app.core.errors import PlantMLError
from app.services import Services, open_services
from app.ui.dialogs.login_dialog import LoginDialog
from app.ui.main_window import MainWindow
from app.ui.task_runner import INTERNAL_ERROR, TaskRunner

log = logging.getLogger(__name__)

LOG_NAME = "plantml-gui.log"
TITLE = "PlantML"


def run_gui(home: str | Path | None = None, snapshot: Path | None = None) -> int:
    """Open (creating if needed) the workspace, sign in, show the main window; returns the
    exit code: 0 after a normal close or a cancelled sign-in, 1 if the workspace could not
    be opened. With ``snapshot``, the sign-in dialog is saved there as a PNG instead of
    waiting for a user (how an installation check sees the GUI come up)."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName(TITLE)
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
    try:
        dialog = LoginDialog(services, runner)
        if snapshot is not None:
            return _save_snapshot(dialog, snapshot)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.principal is None:
            return 0
        window = MainWindow(services, runner, dialog.principal)
        window.show()
        return int(app.exec())
    finally:
        runner.shutdown()
        services.close()
        sys.excepthook = old_hook
        if handler is not None:
            logging.getLogger().removeHandler(handler)
            handler.close()


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
