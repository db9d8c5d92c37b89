"""The USB panel on its own: export for the version its page names, import, nothing on cancel."""

from __future__ import annotations

from app.ui.widgets.job_controls import JobControls
from app.ui.widgets.usb_panel import UsbPanel
from tests.services.release_kit import register
from tests.ui.models_kit import approve, click, propose


def _panel(qtbot, services, runner, principal, ref, refreshed):
    jobs = JobControls(runner)
    qtbot.addWidget(jobs)
    panel = UsbPanel(services, principal, jobs, lambda: ref, refreshed.append)
    qtbot.addWidget(panel)
    return panel, jobs


def test_export_then_import_report_and_refresh_their_page(qtbot, workspace, people, runner,
                                                          tmp_path):
    sv = workspace.services
    register(sv, people["erin"])
    propose(sv, people["erin"])
    approve(sv, people["avery"])
    stick = tmp_path / "usb"
    stick.mkdir()
    refreshed: list[str | None] = []
    panel, jobs = _panel(qtbot, sv, runner, people["omar"], "pump-7:v1", refreshed)
    panel.choose_folder = lambda: stick
    with qtbot.waitSignal(panel.sig_exported, timeout=5000) as exported:
        click(qtbot, panel.export_button)
    assert runner.wait_idle(5000)
    path = exported.args[0].path
    assert path.parent == stick and refreshed == [None]
    assert "safe to remove" in jobs.message_label.text()

    # Importing it back here is refused (the version exists): said, audited, page refreshed.
    panel.choose_package_file = lambda: path
    click(qtbot, panel.import_button)
    assert runner.wait_idle(5000)
    assert refreshed == [None, None] and "already exists" in jobs.message_label.text()


def test_a_cancelled_choice_starts_nothing(qtbot, workspace, people, runner):
    refreshed: list[str | None] = []
    panel, jobs = _panel(qtbot, workspace.services, runner, people["omar"], "pump-7:v1",
                         refreshed)
    panel.choose_folder = lambda: None
    panel.choose_package_file = lambda: None
    click(qtbot, panel.export_button)
    click(qtbot, panel.import_button)
    assert runner.wait_idle(5000)
    assert not jobs.running and refreshed == [] and jobs.message_label.text() == ""
