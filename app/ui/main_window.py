"""The main window: page navigation on the left, the page on the right, user and alarm below."""

from __future__ import annotations

import logging

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from app.core.principal import Principal
from app.services import Services
from app.ui.dialogs.unlock_dialog import UnlockDialog
from app.ui.idle_watch import IdleWatch
from app.ui.pages.audit_view import AuditView
from app.ui.pages.controllers_view import ControllersView
from app.ui.pages.data_view import DataView
from app.ui.pages.models_view import ModelsView
from app.ui.pages.train_view import TrainView
from app.ui.task_runner import TaskRunner

log = logging.getLogger(__name__)

#: Pages in navigation order: name, view class, attribute the window keeps it under.
PAGES: tuple[tuple[str, type, str], ...] = (
    ("Data", DataView, "data_view"),
    ("Train", TrainView, "train_view"),
    ("Models", ModelsView, "models_view"),
    ("Controllers", ControllersView, "controllers_view"),
    ("Audit", AuditView, "audit_view"),
)

ALARM_STYLE = "color: white; background-color: #b00020; font-weight: bold; padding: 2px 6px;"

#: How often the status bar rereads the workspace alarm (a thread-safe attribute read).
ALARM_POLL_MS = 2000

#: How long closing waits for a running job to notice its cancellation.
CLOSE_WAIT_MS = 15_000


class MainWindow(QMainWindow):
    """Navigation list, stacked pages, and a status bar with the user and any alarm."""

    sig_page_changed = Signal(str)
    """The visible page changed; carries its name (e.g. "Audit")."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None, idle_lock_s: float | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.principal = principal
        self.setWindowTitle(f"PlantML - {services.home}")
        self.resize(1100, 700)

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setMaximumWidth(180)
        self.stack = QStackedWidget()
        self.pages: dict[str, QWidget] = {}
        for name, view, attribute in PAGES:
            page = view(services, runner, principal)
            setattr(self, attribute, page)
            self.pages[name] = page
            self.stack.addWidget(page)
            self.nav.addItem(name)
        self.nav.currentRowChanged.connect(self._row_changed)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.addWidget(self.nav)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        roles = ", ".join(sorted(r.value for r in principal.roles)) or "no roles"
        self.user_label = QLabel(f"Signed in as {principal.username} ({roles})")
        self.alarm_label = QLabel("")
        self.alarm_label.setStyleSheet(ALARM_STYLE)
        self.alarm_label.setVisible(False)
        self.statusBar().addWidget(self.user_label)
        self.statusBar().addPermanentWidget(self.alarm_label)
        self.update_alarm()
        # The alarm is raised by whichever write fails; check after every job and now and
        # then, since Health has no notification of its own.
        runner.sig_busy_changed.connect(self.update_alarm)
        self._alarm_timer = QTimer(self)
        self._alarm_timer.timeout.connect(self.update_alarm)
        self._alarm_timer.start(ALARM_POLL_MS)

        # Open on Audit; Models loads its data only when it is first shown.
        self.show_page("Audit")

        # T27: lock after the configured time without input (0 switches it off).
        limit = services.auth.idle_lock_seconds() if idle_lock_s is None else idle_lock_s
        self.idle_watch = IdleWatch(limit, self)
        self.idle_watch.sig_idle.connect(self.lock)
        self.unlock_dialog: UnlockDialog | None = None

    @property
    def locked(self) -> bool:
        """True while the session is locked and the pages are hidden."""
        return self.unlock_dialog is not None

    def lock(self) -> None:
        """Hide every page and ask the same user's password before showing them again."""
        if self.locked:
            return
        self.centralWidget().setVisible(False)
        minutes = self.idle_watch.limit_s / 60.0
        who, auth = self.principal, self.services.auth
        self.runner.submit(lambda: auth.lock_session(who, reason=f"idle for {minutes:g} min"),
                           on_done=lambda _r: None, on_error=lambda _e: None,
                           cancellable=False)
        self.unlock_dialog = UnlockDialog(self.services, self.runner, self.principal,
                                          minutes, self)
        self.unlock_dialog.sig_unlocked.connect(self._unlocked)
        self.unlock_dialog.show()

    def _unlocked(self, _principal: Principal) -> None:
        self.unlock_dialog = None
        self.centralWidget().setVisible(True)
        self.idle_watch.reset()

    def show_page(self, name: str) -> None:
        """Switch to the page called ``name`` (as listed in the navigation)."""
        names = [n for n, _view, _attr in PAGES]
        self.nav.setCurrentRow(names.index(name))

    def current_page_name(self) -> str:
        """Name of the visible page."""
        return PAGES[self.stack.currentIndex()][0]

    def update_alarm(self, *_args: object) -> None:
        """Show the workspace alarm in red, or hide the alarm line when there is none."""
        alarm = self.services.health.alarm
        self.alarm_label.setText(alarm)
        self.alarm_label.setVisible(bool(alarm))

    def _row_changed(self, row: int) -> None:
        if row < 0:
            return
        self.stack.setCurrentIndex(row)
        self.sig_page_changed.emit(PAGES[row][0])

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        # Jobs hold the database and call back into these widgets: stop them first.
        self._alarm_timer.stop()
        self.idle_watch.stop()
        self.runner.cancel_all()
        if not self.runner.wait_idle(CLOSE_WAIT_MS):
            log.warning("closing with a background job still running")
        super().closeEvent(event)
