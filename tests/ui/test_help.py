"""Help menu (guide, self-test, about), the look from resources/, and the German catalogue."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, QTranslator
from PySide6.QtWidgets import QApplication

from app import __version__
from app.core.resources import resource
from app.services import doctor
from app.ui.dialogs.selftest_dialog import SelfTestDialog
from app.ui.look import apply_look, icon, install_translator
from app.ui.main_window import MainWindow
from app.ui.navigation import PAGES

ROOT = Path(__file__).resolve().parents[2]
CHECKS = ["native kernels", "onnxruntime", "Qt", "serial ports", "workspace", "clock",
          "disk space"]


def open_window(qtbot, workspace, runner, principal, **kwargs) -> MainWindow:
    win = MainWindow(workspace.services, runner, principal, **kwargs)
    qtbot.addWidget(win)
    win.show()
    assert runner.wait_idle(5000)
    return win


def test_the_menus_are_file_session_help(qtbot, workspace, runner):
    win = open_window(qtbot, workspace, runner, workspace.auditor)
    menus = [a.text() for a in win.menuBar().actions()]
    assert menus == ["&File", "&Session", "&Help"]
    session = win.menuBar().actions()[1].menu()
    assert [a.text() for a in session.actions()] == ["Lock", "Switch user…", "Sign out"]
    assert all(not a.icon().isNull() for a in session.actions())


def test_the_user_guide_opens_offline_in_a_dialog(qtbot, workspace, runner):
    win = open_window(qtbot, workspace, runner, workspace.auditor)
    win.menu_actions.guide.trigger()
    guide = win.dialog
    assert guide.isVisible() and not guide.browser.openExternalLinks()
    text = guide.browser.toPlainText()
    assert text.startswith("PlantML user guide")
    for words in ("The loop", "Switch user", "four-eyes", "plantml audit verify"):
        assert words in text


def test_about_shows_the_version_and_the_bundled_text(qtbot, workspace, runner):
    win = open_window(qtbot, workspace, runner, workspace.auditor)
    win.menu_actions.about.trigger()
    about = win.dialog
    assert about.isVisible()
    shown = about.text_label.text()
    assert f"PlantML {__version__}" in shown
    assert resource("about.md").read_text(encoding="utf-8").splitlines()[2] in shown


def test_the_self_test_lists_one_line_per_check(qtbot, workspace, runner):
    win = open_window(qtbot, workspace, runner, workspace.auditor)
    win.menu_actions.self_test.trigger()
    dialog = win.dialog
    assert isinstance(dialog, SelfTestDialog)
    with qtbot.waitSignal(dialog.sig_finished, timeout=60_000):
        pass
    lines = dialog.lines()
    assert [line.split(":", 1)[0].split(None, 1)[1] for line in lines] == CHECKS
    assert lines[2].startswith("ok    Qt: platform plugin offscreen running")


def test_a_failing_check_is_shown_clearly(qtbot, workspace, runner, monkeypatch):
    def broken() -> str:
        raise doctor.SelfTestFailed("the serial port driver is missing")

    monkeypatch.setattr(doctor, "check_serial_ports", broken)
    dialog = SelfTestDialog(workspace.home, runner)
    qtbot.addWidget(dialog)
    dialog.show()
    with qtbot.waitSignal(dialog.sig_finished, timeout=60_000):
        dialog.start()
    assert "FAIL  serial ports: the serial port driver is missing" in dialog.lines()
    summary = dialog.summary_label
    assert summary.text().startswith("SELF-TEST FAILED: serial ports")
    assert summary.property("status") == "alarm"
    assert summary.palette().windowText().color().name() == "#c62828", "shown in red"


def test_the_first_start_runs_the_self_test_by_itself(qtbot, workspace, runner):
    win = MainWindow(workspace.services, runner, workspace.auditor, first_start=True)
    qtbot.addWidget(win)
    win.show()
    qtbot.waitUntil(lambda: isinstance(win.dialog, SelfTestDialog), timeout=5000)
    with qtbot.waitSignal(win.dialog.sig_finished, timeout=60_000):
        pass
    assert len(win.dialog.lines()) == len(CHECKS)


def test_the_stylesheet_and_icons_come_from_resources(qapp):
    before = qapp.styleSheet()
    try:
        apply_look(qapp)
        sheet = qapp.styleSheet()
        assert sheet.startswith("/* PlantML's one stylesheet") and "@ICONS@" not in sheet
        for url in re.findall(r"url\(([^)]+)\)", sheet):
            assert Path(url).is_file(), url
        assert not qapp.windowIcon().isNull()
    finally:
        qapp.setStyleSheet(before)
    for spec in PAGES:
        assert not icon(spec.icon).isNull(), spec.icon
    assert icon("no-such-icon").isNull()


@pytest.fixture
def german(qapp):
    translator = install_translator(qapp, QLocale("de_DE"))
    assert translator is not None
    yield translator
    qapp.removeTranslator(translator)


def test_english_needs_no_catalogue(qapp):
    assert install_translator(qapp, QLocale(QLocale.Language.English)) is None


def test_a_german_system_gets_german_navigation_and_menus(qtbot, workspace, runner, german):
    win = open_window(qtbot, workspace, runner, workspace.auditor)
    names = [win.nav.item(i).text() for i in range(win.nav.count())]
    assert names == ["Daten", "Training", "Modelle", "Steuerungen", "Audit"]
    assert [a.text() for a in win.menuBar().actions()] == ["&Datei", "&Sitzung", "&Hilfe"]
    assert win.header.hint_label.text().startswith("Jeder Schritt ist hier aufgezeichnet")
    assert win.current_page_name() == "Audit", "pages keep their keys in any language"


def test_the_catalogue_matches_the_sources(tmp_path):
    lupdate = shutil.which("pyside6-lupdate", path=str(Path(sys.executable).parent))
    if lupdate is None:
        pytest.skip("pyside6-lupdate is not installed next to this Python")
    ts = resource("translations", "plantml_de.ts")
    copy = tmp_path / "check.ts"
    shutil.copy(ts, copy)
    sources = sorted(str(p) for p in (ROOT / "app" / "ui").rglob("*.py"))
    done = subprocess.run([lupdate, *sources, "-no-obsolete", "-locations", "none",
                           "-ts", str(copy)], capture_output=True, text=True, check=True)
    assert "(0 new and" in done.stdout, done.stdout

    def messages(path: Path) -> dict[str, str]:
        root = ET.parse(path).getroot()
        return {m.findtext("source"): m.findtext("translation") or ""
                for m in root.iter("message")}

    assert messages(copy) == messages(ts), "every marked text, and nothing else"
    translator = QTranslator()
    assert translator.load(str(resource("translations", "plantml_de.qm")))
    for source, german in messages(ts).items():
        assert german, f"no German for {source!r}"
        assert translator.translate("MainWindow", source) == german, \
            f"the .qm is older than the .ts for {source!r}: run pyside6-lrelease"


def test_run_gui_installs_and_removes_the_catalogue(qapp, monkeypatch, tmp_path):
    from app.ui import main as gui_main

    installed = []
    monkeypatch.setattr(gui_main, "install_translator",
                        lambda app: installed.append(app) or None)
    monkeypatch.setattr(gui_main, "_run_workspace", lambda *_a: 0)
    assert gui_main.run_gui(home=tmp_path / "ws") == 0
    assert installed == [QApplication.instance()]
