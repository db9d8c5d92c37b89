"""The main window's menus: File, Session and Help (texts in the "MainWindow" context)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

from app.ui.look import icon
from app.ui.navigation import translate


@dataclass
class MenuActions:
    """Every action of the menu bar, for the window to connect and tests to trigger."""

    quit: QAction
    lock: QAction
    switch_user: QAction
    sign_out: QAction
    guide: QAction
    self_test: QAction
    about: QAction


def _action(window: QMainWindow, text: str, icon_name: str, tip: str,
            shortcut: QKeySequence | QKeySequence.StandardKey | None = None) -> QAction:
    action = QAction(icon(icon_name), text, window)
    action.setStatusTip(tip)
    action.setToolTip(tip)
    if shortcut is not None:
        action.setShortcut(shortcut)
    return action


def build_menus(window: QMainWindow) -> MenuActions:
    """Fill ``window``'s menu bar; the window connects the actions."""
    actions = MenuActions(
        quit=_action(window, translate("MainWindow", "Quit"), "quit",
                     translate("MainWindow", "Sign out and close PlantML"),
                     QKeySequence.StandardKey.Quit),
        lock=_action(window, translate("MainWindow", "Lock"), "lock",
                     translate("MainWindow", "Hide the pages until your password is entered "
                               "again"), QKeySequence("Ctrl+L")),
        switch_user=_action(window, translate("MainWindow", "Switch user…"), "switch-user",
                            translate("MainWindow", "Sign in as someone else; this session is "
                                      "signed out")),
        sign_out=_action(window, translate("MainWindow", "Sign out"), "sign-out",
                         translate("MainWindow", "End this session and show the sign-in")),
        guide=_action(window, translate("MainWindow", "User guide"), "guide",
                      translate("MainWindow", "The guide to the whole loop, offline"),
                      QKeySequence("F1")),
        self_test=_action(window, translate("MainWindow", "Self-test"), "selftest",
                          translate("MainWindow", "Check this installation, as plantml doctor "
                                    "does")),
        about=_action(window, translate("MainWindow", "About PlantML"), "info",
                      translate("MainWindow", "Version and licences")),
    )
    bar = window.menuBar()
    file_menu = bar.addMenu(translate("MainWindow", "&File"))
    file_menu.addAction(actions.quit)
    session = bar.addMenu(translate("MainWindow", "&Session"))
    for action in (actions.lock, actions.switch_user, actions.sign_out):
        session.addAction(action)
    help_menu = bar.addMenu(translate("MainWindow", "&Help"))
    for action in (actions.guide, actions.self_test):
        help_menu.addAction(action)
    help_menu.addSeparator()
    help_menu.addAction(actions.about)
    return actions
