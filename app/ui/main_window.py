"""The main window: navigation rail, header with the page's next step and the workspace's
health, the pages (built on first show), menus, status bar, lock and the end of a session."""

from __future__ import annotations

import logging

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.core.principal import Principal
from app.core.roles import Action
from app.services import Services
from app.services.audit import AuditFilter
from app.ui.dialogs.about_dialog import AboutDialog
from app.ui.dialogs.guide_dialog import GuideDialog
from app.ui.dialogs.login_dialog import LoginDialog
from app.ui.dialogs.selftest_dialog import SelfTestDialog
from app.ui.dialogs.unlock_dialog import UnlockDialog
from app.ui.idle_watch import IdleWatch
from app.ui.look import RAIL_INK, apply_plot_look, icon
from app.ui.main_menu import build_menus
from app.ui.navigation import PAGE_NAMES, PAGES, landing_page, spec_of, translate
from app.ui.permissions import may
from app.ui.session_end import EndKind, SessionCloser, SessionOutcome
from app.ui.styles import ALARM_STYLE
from app.ui.task_runner import TaskRunner, describe_error
from app.ui.widgets.header_bar import HeaderBar, last_verification
from app.ui.widgets.page import Page
from app.ui.window_settings import mark_selftest_done, restore_geometry, save_geometry

log = logging.getLogger(__name__)

#: How often the workspace alarm is reread (a thread-safe attribute read).
ALARM_POLL_MS = 2000

#: Size of the window on a workstation where it was never closed before.
DEFAULT_SIZE = QSize(1100, 700)

#: Verification events looked at for the newest verdict (refusals are skipped).
VERIFY_EVENTS = 50


class MainWindow(QMainWindow):
    """Navigation on the left; on the right the header and the visible page.

    A page is built the first time it is shown, so the window opens without importing or
    laying out what nobody looks at. Closing, Sign out and Switch user end the session the
    same way (:class:`SessionCloser`): the window goes at once, running jobs are cancelled
    with "stopping the job…" on screen, the logout is audited, and
    :attr:`sig_session_ended` says how it ended once everything has stopped.
    """

    sig_page_changed = Signal(str)
    """The visible page changed; carries its name (e.g. "Audit")."""

    sig_session_ended = Signal(object)
    """The session ended and its jobs stopped; carries the SessionOutcome."""

    def __init__(self, services: Services, runner: TaskRunner, principal: Principal,
                 parent: QWidget | None = None, idle_lock_s: float | None = None,
                 first_start: bool = False) -> None:
        super().__init__(parent)
        self.services = services
        self.runner = runner
        self.principal = principal
        self.pages: dict[str, Page] = {}
        self.unlock_dialog: UnlockDialog | None = None
        self.dialog: QWidget | None = None
        self.outcome: SessionOutcome | None = None
        self._closer: SessionCloser | None = None
        self._gone = False
        self._first_start = first_start
        self._current = ""
        self.setWindowTitle(f"PlantML - {services.home}")
        if not restore_geometry(self):
            self.resize(DEFAULT_SIZE)

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setIconSize(QSize(22, 22))
        self.nav.setFixedWidth(184)
        for spec in PAGES:
            item = QListWidgetItem(icon(spec.icon, RAIL_INK), spec.title())
            item.setData(Qt.ItemDataRole.UserRole, spec.name)
            item.setToolTip(spec.next_step())
            self.nav.addItem(item)
        self.stack = QStackedWidget()
        self.header = HeaderBar()
        self.header.set_user(principal)
        self.nav.currentRowChanged.connect(self._row_changed)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(0)
        right_layout.addWidget(self.header)
        page_area = QWidget()
        page_layout = QVBoxLayout(page_area)
        page_layout.setContentsMargins(12, 10, 12, 6)
        page_layout.addWidget(self.stack)
        right_layout.addWidget(page_area, 1)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(right, 1)
        self.setCentralWidget(central)
        self._central = central

        self.menu_actions = build_menus(self)
        self.menu_actions.quit.triggered.connect(self.close)
        self.menu_actions.lock.triggered.connect(lambda: self.lock("locked by the user"))
        self.menu_actions.switch_user.triggered.connect(self.switch_user)
        self.menu_actions.sign_out.triggered.connect(self.sign_out)
        self.menu_actions.guide.triggered.connect(self.show_guide)
        self.menu_actions.self_test.triggered.connect(self.self_test)
        self.menu_actions.about.triggered.connect(self.show_about)

        roles = ", ".join(sorted(r.value for r in principal.roles)) or "no roles"
        self.user_label = QLabel(f"Signed in as {principal.username} ({roles})")
        self.jobs_label = QLabel("")
        self.jobs_label.setObjectName("jobs")
        self.alarm_label = QLabel("")
        self.alarm_label.setStyleSheet(ALARM_STYLE)
        self.alarm_label.setVisible(False)
        self.statusBar().addWidget(self.user_label)
        self.statusBar().addWidget(self.jobs_label)
        self.statusBar().addPermanentWidget(self.alarm_label)
        self.update_alarm()
        # The alarm is raised by whichever write fails; check after every job and now and
        # then, since Health has no notification of its own.
        runner.sig_busy_changed.connect(self._busy_changed)
        self._alarm_timer = QTimer(self)
        self._alarm_timer.timeout.connect(self.update_alarm)
        self._alarm_timer.start(ALARM_POLL_MS)

        self.show_page(landing_page(principal))
        self.refresh_audit_state()

        # T27: lock after the configured time without input (0 switches it off).
        limit = services.auth.idle_lock_seconds() if idle_lock_s is None else idle_lock_s
        self.idle_watch = IdleWatch(limit, self)
        self.idle_watch.sig_idle.connect(self._idle)

    # ---------------------------------------------------------------- pages

    def page(self, name: str) -> Page:
        """The page called ``name``, built now if it was not yet."""
        built = self.pages.get(name)
        if built is None:
            spec = spec_of(name)
            page_class = spec.load()
            apply_plot_look()  # the page's plots, if it has any, in the application's colours
            built = page_class(self.services, self.runner, self.principal)
            self.pages[name] = built
            self.stack.addWidget(built)
            if name == "Audit":
                built.sig_verified.connect(lambda _report: self.refresh_audit_state())
            elif name == "Controllers":
                built.sig_open_version.connect(self.open_version)
        return built

    def open_version(self, ref: str) -> None:
        """Show the Models page with ``ref`` selected (once its list has reloaded)."""
        self.show_page("Models")
        # After the page is shown: its first showEvent reloads without a selection.
        self.models_view.refresh(select=ref)

    @property
    def data_view(self):
        """The Data page (built on first access)."""
        return self.page("Data")

    @property
    def train_view(self):
        """The Train page (built on first access)."""
        return self.page("Train")

    @property
    def models_view(self):
        """The Models page (built on first access)."""
        return self.page("Models")

    @property
    def controllers_view(self):
        """The Controllers page (built on first access)."""
        return self.page("Controllers")

    @property
    def audit_view(self):
        """The Audit page (built on first access)."""
        return self.page("Audit")

    def show_page(self, name: str) -> None:
        """Switch to the page called ``name`` (its key, e.g. "Audit")."""
        self.nav.setCurrentRow(PAGE_NAMES.index(name))

    def current_page_name(self) -> str:
        """Name of the visible page."""
        return self._current

    def _row_changed(self, row: int) -> None:
        if row < 0:
            return
        spec = PAGES[row]
        self.stack.setCurrentWidget(self.page(spec.name))
        self._current = spec.name
        self.header.set_page(spec.title(), spec.next_step())
        self.sig_page_changed.emit(spec.name)

    # ---------------------------------------------------------------- health

    def update_alarm(self, *_args: object) -> None:
        """Show the workspace alarm in red, or hide the alarm line when there is none."""
        alarm = self.services.health.alarm
        self.alarm_label.setText(alarm)
        self.alarm_label.setVisible(bool(alarm))
        self.header.set_health(alarm)

    def refresh_audit_state(self) -> None:
        """Read the newest verification's verdict for the header (in the background)."""
        if self.runner.closed or self._closer is not None:
            return
        if not may(self.principal, Action.AUDIT_READ):
            self.header.set_audit(None, unknown=translate(
                "MainWindow", "your role does not read the audit trail"))
            return
        show, principal = self.services.audit.show, self.principal
        flt = AuditFilter(action=Action.AUDIT_VERIFY.value, limit=VERIFY_EVENTS)
        self.runner.submit(lambda: show(principal, flt),
                           on_done=lambda events: self.header.set_audit(
                               last_verification(events)),
                           on_error=lambda exc: self.header.set_audit(
                               None, unknown=describe_error(exc)),
                           cancellable=False, writes=False)

    def _busy_changed(self, busy: bool) -> None:
        self.update_alarm()
        self.jobs_label.setText(translate("MainWindow", "working…") if busy else "")

    # ---------------------------------------------------------------- lock

    @property
    def locked(self) -> bool:
        """True while the session is locked and the pages are hidden."""
        return self.unlock_dialog is not None

    def _idle(self) -> None:
        minutes = self.idle_watch.limit_s / 60.0
        self.lock(f"idle for {minutes:g} min", minutes=minutes)

    def lock(self, reason: str, *, minutes: float = 0.0) -> None:
        """Hide every page and ask the same user's password before showing them again;
        ``reason`` goes into the audit trail, ``minutes`` idle (0: locked on request)."""
        if self.locked or self._closer is not None:
            return
        self._central.setVisible(False)
        self.menuBar().setEnabled(False)
        who, auth = self.principal, self.services.auth
        self.runner.submit(lambda: auth.lock_session(who, reason=reason),
                           on_done=lambda _r: None, on_error=lambda _e: None,
                           cancellable=False, writes=False)
        dialog = UnlockDialog(self.services, self.runner, self.principal, minutes, self)
        dialog.sig_unlocked.connect(self._unlocked)
        dialog.sig_sign_out.connect(self.sign_out)
        dialog.sig_switch_user.connect(self.switch_user)
        self.unlock_dialog = dialog
        dialog.show()

    def _unlocked(self, _principal: Principal) -> None:
        self.unlock_dialog = None
        self._central.setVisible(True)
        self.menuBar().setEnabled(True)
        self.idle_watch.reset()

    # ---------------------------------------------------------------- session

    def sign_out(self) -> None:
        """End the session; the sign-in comes back."""
        self.end_session(SessionOutcome(EndKind.SIGN_OUT))

    def switch_user(self) -> None:
        """Ask another user to sign in; when they do, this session ends in their favour
        (cancelling leaves it as it was, locked or not)."""
        dialog = LoginDialog(self.services, self.runner, self)
        dialog.setWindowTitle(translate("MainWindow", "PlantML - switch user"))
        dialog.intro_label.setText(
            translate("MainWindow", "Sign in as another user. The session of {0} ends when you do.")
            .format(self.principal.username))
        dialog.sig_signed_in.connect(
            lambda new: self.end_session(SessionOutcome(EndKind.SWITCH, new)))
        self.dialog = dialog
        dialog.open()

    def end_session(self, outcome: SessionOutcome) -> None:
        """Close the window now and end the session once its jobs have stopped."""
        if self._closer is not None:
            return
        save_geometry(self)
        self.outcome = outcome
        self._alarm_timer.stop()
        self.idle_watch.stop()
        for built in self.pages.values():
            built.stop_background()
        if self.unlock_dialog is not None:
            self.unlock_dialog.end()
            self.unlock_dialog = None
        self._closer = SessionCloser(self.services, self.runner, self.principal,
                                     self._session_over)
        self.hide()
        self._closer.start(outcome)

    def _session_over(self) -> None:
        self._gone = True
        self.close()
        log.info("session of %s ended: %s", self.principal.username, self.outcome)
        self.sig_session_ended.emit(self.outcome)

    @property
    def stopping_notice(self):
        """The "stopping the job…" window while closing waits for jobs (else None)."""
        return self._closer.notice if self._closer is not None else None

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        if self._gone:
            super().closeEvent(event)
            return
        # Not yet: jobs hold the database and call back into these widgets. The window
        # goes now; it closes for good once they have stopped.
        event.ignore()
        self.end_session(SessionOutcome(EndKind.QUIT))

    # ---------------------------------------------------------------- help

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self._first_start:
            self._first_start = False
            QTimer.singleShot(0, lambda: self.self_test(first_start=True))

    def self_test(self, *, first_start: bool = False):
        """Run the installation's self-test and show its lines; on the first start of this
        workspace here, a pass is remembered so it is not run again next time."""
        dialog = SelfTestDialog(self.services.home, self.runner, self)
        if first_start:
            home = self.services.home
            dialog.sig_finished.connect(
                lambda checks: mark_selftest_done(home) if checks and all(
                    c.ok for c in checks) else None)
        self.dialog = dialog
        dialog.show()
        dialog.start()
        return dialog

    def show_guide(self):
        """The user guide, offline."""
        self.dialog = GuideDialog(self)
        self.dialog.show()
        return self.dialog

    def show_about(self):
        """The about box: version and the bundled about text."""
        self.dialog = AboutDialog(self)
        self.dialog.show()
        return self.dialog
