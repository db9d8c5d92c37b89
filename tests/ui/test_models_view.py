"""Models page: listing and details, role-greyed buttons, compare, alias, USB export/import,
evaluate on a dataset, the ONNX file, retire."""

from __future__ import annotations

import threading

import pytest

from app.services import open_services
from app.services.audit import AuditFilter
from app.ui.dialogs.alias_dialog import AliasDialog
from app.ui.dialogs.compare_dialog import CompareDialog
from app.ui.dialogs.evaluate_dialog import EvaluateDialog
from app.ui.dialogs.reason_dialog import ReasonDialog
from app.ui.pages.models_view import ModelsView
from tests.services.release_kit import register
from tests.ui.conftest import CHEAP, PASSWORDS
from tests.ui.models_kit import approve, click, open_view, propose, select


def test_lists_versions_and_shows_the_selected_ones_evidence(qtbot, workspace, people, runner):
    sv = workspace.services
    register(sv, people["erin"])
    register(sv, people["erin"], passed=False)
    register(sv, people["erin"], line="fan-2")
    view = open_view(qtbot, sv, runner, people["aud"])

    assert view.version_refs() == ["fan-2:v1", "pump-7:v2", "pump-7:v1"]
    assert view.version_row("pump-7:v2") == ("v2", "draft", "")
    assert view.version_row("pump-7:v1") == ("v1", "validated", "")
    assert view.count_label.text() == "2 model lines, 3 versions"
    assert view.current_ref() == "fan-2:v1", "the first version is selected"

    select(view, runner, "pump-7:v1")
    assert view.panel.title_label.text() == "pump-7:v1  (classifier, validated)"
    lineage = view.panel.lineage_view.toPlainText()
    for text in ("d" * 64, '{"model": "mean"}', '{"hop": 8, "window": 8}',
                 "accuracy 0.995", "sklearn 1.9", "parity gate", "passed"):
        assert text in lineage, text
    reports = {name: v.toPlainText() for name, v in view.panel.report_views.items()}
    assert reports["validation_report.json"] == '{\n  "accuracy": 0.995\n}'
    assert '"passed": true' in reports["parity_report.json"]
    assert "tiny model" in reports["model_card.md"]
    assert view.signature_rows() == []
    history = view.panel.history_model.events()
    assert [(e.action, e.object, e.user) for e in history] == [
        ("model.register", "model:pump-7:v1", "erin")]

    select(view, runner, "pump-7:v2")
    assert "blocked (parity gate failed)" in view.panel.state_label.text()


def test_empty_registry_says_so(qtbot, workspace, runner):
    view = open_view(qtbot, workspace.services, runner, workspace.engineer)
    assert view.version_refs() == []
    assert "no models yet" in view.count_label.text()
    assert view.panel.title_label.text() == "Select a model version"
    assert not view.propose_button.isEnabled()
    assert "select a version first" in view.propose_button.toolTip()


EVALUATE, ONNX, RETIRE = "Evaluate on a dataset...", "Export ONNX file...", "Retire..."


def _enabled(view: ModelsView) -> dict[str, bool]:
    return {b.text(): b.isEnabled() for b in view.action_buttons()}


@pytest.mark.parametrize(("who", "state", "enabled"), [
    ("aud", "validated", {"Compare with...", EVALUATE}),
    ("erin", "validated", {"Propose...", "Compare with...", EVALUATE, ONNX, RETIRE}),
    ("avery", "proposed", {"Approve/Reject...", "Compare with...", EVALUATE, RETIRE}),
    ("omar", "approved", {"Compare with...", "Set alias...", "Export to drive...",
                          "Import from drive...", EVALUATE}),
])
def test_buttons_follow_the_role_with_a_tooltip(qtbot, workspace, people, runner, who, state,
                                                enabled):
    sv = workspace.services
    register(sv, people["erin"])
    register(sv, people["erin"])
    if state in ("proposed", "approved"):
        propose(sv, people["erin"], ref="pump-7:v2")
    if state == "approved":
        approve(sv, people["avery"], ref="pump-7:v2")
    view = open_view(qtbot, sv, runner, people[who])
    assert view.current_ref() == "pump-7:v2"

    assert {name for name, on in _enabled(view).items() if on} == enabled
    roles = {"aud": "auditor", "erin": "engineer", "avery": "approver", "omar": "operator"}
    for button in view.action_buttons():
        if not button.isEnabled() and "role" in button.toolTip():
            assert button.toolTip().endswith(f"you are signed in as {who} ({roles[who]})")
    if who != "avery":
        assert view.approve_button.toolTip().startswith(
            "Approving or rejecting needs the approver role")
    if who == "aud":
        assert "needs the operator role" in view.import_button.toolTip()
        assert view.retire_button.toolTip() == (
            "Retiring a version needs the engineer or approver role; you are signed in as aud "
            "(auditor)")
    if who in ("avery", "omar", "aud"):
        assert view.onnx_button.toolTip().startswith(
            "Exporting the ONNX file needs the engineer role; you are signed in as")


def test_admin_without_model_roles_is_told_and_nothing_is_asked(qtbot, workspace, runner):
    sv = workspace.services
    before = len(sv.audit.show(workspace.admin))
    view = open_view(qtbot, sv, runner, workspace.admin)
    assert "Viewing models needs the" in view.message_label.text()
    assert not any(b.isEnabled() for b in view.action_buttons())
    assert len(sv.audit.show(workspace.admin)) == before, "no refused read in the trail"


def test_compare_shows_the_differing_fields_side_by_side(qtbot, workspace, people, runner):
    sv = workspace.services
    register(sv, people["erin"])
    register(sv, people["erin"], passed=False)
    view = open_view(qtbot, sv, runner, people["aud"])
    assert view.current_ref() == "pump-7:v2"

    click(qtbot, view.compare_button)
    dialog = view.dialog
    assert isinstance(dialog, CompareDialog)
    assert runner.wait_idle(5000)
    rows = {field: (a, b) for field, a, b in dialog.rows()}
    assert rows["state"] == ("draft", "validated")
    assert rows["parity.passed"] == ("false", "true")
    assert rows["parity.blocked_reason"] == ("parity gate failed", "")
    assert dialog.table.horizontalHeaderItem(1).text() == "pump-7:v2"
    assert dialog.table.horizontalHeaderItem(2).text() == "pump-7:v1"
    dialog.reject()


def test_set_alias_moves_production_to_an_approved_version(qtbot, workspace, people, runner):
    sv = workspace.services
    register(sv, people["erin"])
    propose(sv, people["erin"])
    approve(sv, people["avery"])
    view = open_view(qtbot, sv, runner, people["omar"])

    click(qtbot, view.alias_button)
    dialog = view.dialog
    assert isinstance(dialog, AliasDialog)
    dialog.alias_combo.setEditText("production")
    dialog.reason_edit.setText("first release on line 3")
    with qtbot.waitSignal(dialog.sig_alias_set, timeout=5000):
        click(qtbot, dialog.set_button)
    assert runner.wait_idle(5000)
    assert not dialog.isVisible()
    assert view.version_row("pump-7:v1")[2] == "production"
    assert "production of pump-7 now points at v1" in view.message_label.text()
    assert sv.registry.lines(people["aud"])[0].aliases == {"production": 1}


def test_production_alias_refused_for_an_unapproved_version(qtbot, workspace, people, runner):
    sv = workspace.services
    register(sv, people["erin"])
    view = open_view(qtbot, sv, runner, people["omar"])
    dialog = view.set_alias()
    dialog.alias_combo.setEditText("production")
    dialog.reason_edit.setText("try")
    click(qtbot, dialog.set_button)
    assert runner.wait_idle(5000)
    assert dialog.isVisible()
    assert "only an approved version can be production" in dialog.error_label.text()
    dialog.reject()


def _approved(sv, people) -> None:
    register(sv, people["erin"])
    propose(sv, people["erin"])
    approve(sv, people["avery"])


def test_export_writes_the_package_and_the_progress_completes(qtbot, workspace, people, runner,
                                                              tmp_path):
    sv = workspace.services
    _approved(sv, people)
    stick = tmp_path / "usb"
    stick.mkdir()
    view = open_view(qtbot, sv, runner, people["omar"])
    view.usb.choose_folder = lambda: stick
    seen: list[float] = []
    shown = view.jobs.progress
    view.jobs.progress = lambda fraction, message: (seen.append(fraction),
                                                    shown(fraction, message))

    with qtbot.waitSignal(view.sig_exported, timeout=5000) as exported:
        click(qtbot, view.export_button)
        assert not view.export_button.isEnabled() and view.cancel_button.isVisible()
    assert runner.wait_idle(5000)

    result = exported.args[0]
    assert result.path.parent == stick and result.path.name.endswith(".plantml")
    assert "DRAFT" not in result.path.name
    assert sorted(p.name for p in stick.iterdir()) == [result.path.name,
                                                        result.path.name + ".sha256"]
    assert seen and seen[-1] == 1.0
    assert view.progress_bar.isVisible()
    assert view.progress_bar.value() == view.progress_bar.maximum()
    assert "safe to remove" in view.progress_bar.format()
    assert view.cancel_button.isHidden() and view.export_button.isEnabled()
    assert "safe to remove" in view.message_label.text()
    assert sv.audit.show(people["admin"], AuditFilter(action="package.export"))[0].result == "ok"


def test_cancelled_export_writes_nothing(qtbot, workspace, people, runner, tmp_path):
    sv = workspace.services
    _approved(sv, people)
    stick = tmp_path / "usb"
    stick.mkdir()
    view = open_view(qtbot, sv, runner, people["omar"])
    view.usb.choose_folder = lambda: stick
    # Hold the single worker so the export is still queued when Cancel is pressed.
    gate = threading.Event()
    runner.submit(lambda: gate.wait(5), on_done=lambda _v: None, on_error=pytest.fail)
    click(qtbot, view.export_button)
    click(qtbot, view.cancel_button)
    gate.set()
    assert runner.wait_idle(5000)
    assert view.message_label.text() == "export cancelled"
    assert list(stick.iterdir()) == []
    assert view.progress_bar.isHidden() and view.export_button.isEnabled()


def test_import_into_a_second_workspace_shows_the_version(qtbot, workspace, people, runner,
                                                          tmp_path):
    sv = workspace.services
    _approved(sv, people)
    stick = tmp_path / "usb"
    stick.mkdir()
    exported = sv.packages.export_to_drive(people["omar"], ref="pump-7:v1", drive_folder=stick)
    keys = stick / "trusted-keys.json"
    sv.keys.export(people["admin"], path=keys)

    other = open_services(tmp_path / "b", create=True, hash_params=CHEAP)
    try:
        admin_b = other.auth.bootstrap_admin(username="admin", password=PASSWORDS["admin"])
        other.users.add(admin_b, username="omar", password=PASSWORDS["omar"],
                        roles=["operator"])
        omar_b = other.auth.login(username="omar", password=PASSWORDS["omar"])
        other.keys.import_keys(admin_b, path=keys, reason="keys of workstation A")
        view = open_view(qtbot, other, runner, omar_b)
        assert view.version_refs() == []
        view.usb.choose_package_file = lambda: exported.path

        with qtbot.waitSignal(view.sig_imported, timeout=5000):
            click(qtbot, view.import_button)
        assert runner.wait_idle(5000)

        assert view.version_refs() == ["pump-7:v1"]
        assert view.version_row("pump-7:v1")[1] == "approved"
        assert view.current_ref() == "pump-7:v1"
        assert "imported pump-7:v1 (approved)" in view.message_label.text()
        assert view.progress_bar.value() == view.progress_bar.maximum()
        assert "imported from" in view.panel.lineage_view.toPlainText()
        assert "accuracy 0.995" in view.panel.lineage_view.toPlainText()
        assert [e.action for e in view.panel.history_model.events()] == ["package.import"]

        # The same package again: refused, and the reason is shown, not a traceback.
        click(qtbot, view.import_button)
        assert runner.wait_idle(5000)
        assert view.message_label.text().startswith("import failed: ")
        assert "internal error" not in view.message_label.text()
        view.close()
    finally:
        other.close()


# ------------------------------------------------------------------ evaluate, ONNX, retire


def _trained(sv, engineer):
    """A real model trained on two machine states, and a dataset with a dead-sensor and a
    NaN window to evaluate it on."""
    from app.services.recipes import make_recipe
    from tests.services.vibration_kit import two_states, with_bad_windows

    train_ds = two_states(sv, engineer)
    version = sv.training.train(engineer, dataset=train_ds.dataset_id, line="pump",
                                recipe=make_recipe(), window=1024, hop=1024).version
    return version, with_bad_windows(sv, engineer)


def test_evaluate_shows_score_invalid_windows_and_confusion_as_tables(qtbot, workspace, people,
                                                                      runner):
    sv = workspace.services
    version, bad = _trained(sv, people["erin"])
    view = open_view(qtbot, sv, runner, people["avery"])
    assert view.current_ref() == version.ref
    assert view.evaluate_button.isEnabled()

    click(qtbot, view.evaluate_button)
    dialog = view.dialog
    assert isinstance(dialog, EvaluateDialog)
    qtbot.waitUntil(lambda: dialog.dataset_combo.count() == 2, timeout=5000)
    assert dialog.choose(bad.dataset_id)
    with qtbot.waitSignal(dialog.sig_evaluated, timeout=60_000) as evaluated:
        click(qtbot, dialog.evaluate_button)
        assert dialog.jobs.cancel_button.isVisible() and not dialog.evaluate_button.isEnabled()
    assert runner.wait_idle(5000)

    result = evaluated.args[0]
    assert (result["windows"], result["valid_windows"], result["invalid_windows"]) == (20, 18, 2)
    assert dialog.score_label.text().startswith(f"{version.ref} on dataset {bad.dataset_id[:12]}"
                                                ": 20 windows, accuracy ")
    assert "on the 18 valid windows" in dialog.score_label.text()
    assert dialog.invalid_label.text().startswith("2 windows are invalid input")
    assert dialog.invalid_rows() == [
        ("invalid input: flat line (dead or disconnected sensor); level far below the training "
         "envelope", "1"),
        ("invalid input: non-finite samples (NaN or infinite)", "1")]
    assert dialog.confusion_columns() == ["bearing_fault", "healthy"]
    rows = dialog.confusion_rows()
    assert [r[0] for r in rows] == ["bearing_fault", "healthy"]
    assert sum(int(n) for r in rows for n in r[1:]) == 18, "invalid windows are no class"
    assert "{" not in dialog.score_label.text(), "no raw JSON"
    event = sv.audit.show(people["aud"], AuditFilter(action="model.evaluate"))[0]
    assert (event.user, event.object, event.new["invalid_windows"]) == (
        "avery", f"model:{version.ref}", 2)
    dialog.reject()


def test_closing_the_evaluation_cancels_it(qtbot, workspace, people, runner):
    sv = workspace.services
    version, bad = _trained(sv, people["erin"])
    view = open_view(qtbot, sv, runner, people["erin"])
    dialog = view.evaluate()
    qtbot.waitUntil(lambda: dialog.dataset_combo.count() == 2, timeout=5000)
    # Hold the writer lane so the evaluation is still queued when the dialog is closed.
    gate = threading.Event()
    runner.submit(lambda: gate.wait(5), on_done=lambda _v: None, on_error=pytest.fail)
    dialog.choose(bad.dataset_id)
    click(qtbot, dialog.evaluate_button)
    dialog.reject()
    gate.set()
    assert runner.wait_idle(10_000)
    assert dialog.outcome is None
    assert dialog.message_label.text() == "evaluation cancelled"
    assert not sv.audit.show(people["aud"], AuditFilter(action="model.evaluate"))


def test_export_onnx_writes_the_model_and_asks_before_replacing(qtbot, workspace, people,
                                                                 runner, tmp_path):
    sv = workspace.services
    register(sv, people["erin"])
    view = open_view(qtbot, sv, runner, people["erin"])
    target = tmp_path / "pump-7-v1.onnx"
    target.write_bytes(b"older file")
    view.choose_onnx_file = lambda ref: target
    asked = []
    view.confirm_overwrite = lambda path: asked.append(path) or False
    click(qtbot, view.onnx_button)
    assert asked == [target] and target.read_bytes() == b"older file"
    assert view.message_label.text() == f"not exported: {target} was kept"

    view.confirm_overwrite = lambda path: True
    with qtbot.waitSignal(view.sig_onnx_exported, timeout=5000):
        click(qtbot, view.onnx_button)
    assert runner.wait_idle(5000)
    assert target.read_bytes() == sv.registry.artifact(people["erin"], ref="pump-7:v1",
                                                       name="model.onnx")
    assert view.message_label.text() == f"ONNX model of pump-7:v1 written to {target}"
    event = sv.audit.show(people["aud"], AuditFilter(action="model.export"))[0]
    assert (event.result, event.new["file"]) == ("ok", str(target))

    # A folder: one sentence naming the file, not a traceback.
    view.choose_onnx_file = lambda ref: tmp_path
    click(qtbot, view.onnx_button)
    assert runner.wait_idle(5000)
    assert view.message_label.text().startswith(f"ONNX export failed: the ONNX file {tmp_path}")
    assert "internal error" not in view.message_label.text()


def test_export_onnx_is_greyed_for_a_version_blocked_by_the_parity_gate(qtbot, workspace,
                                                                        people, runner,
                                                                        tmp_path):
    sv = workspace.services
    register(sv, people["erin"], passed=False)
    view = open_view(qtbot, sv, runner, people["erin"])
    assert not view.onnx_button.isEnabled()
    assert view.onnx_button.toolTip().endswith(
        "Not now: pump-7:v1 failed the parity gate (parity gate failed): only a version that "
        "passed it is exported")
    # Pressed anyway (a stale button): the service decides, audits and says why.
    view.choose_onnx_file = lambda ref: tmp_path / "x.onnx"
    view.export_onnx()
    assert runner.wait_idle(5000)
    assert "failed the parity gate and cannot be exported" in view.message_label.text()
    assert not (tmp_path / "x.onnx").exists()
    assert sv.audit.show(people["aud"], AuditFilter(action="model.export"))[0].result == \
        "refused"


def test_retire_asks_for_a_reason_and_withdraws_the_version(qtbot, workspace, people, runner):
    sv = workspace.services
    _approved(sv, people)
    sv.registry.set_alias(people["omar"], ref="pump-7:v1", alias="production", reason="go")
    view = open_view(qtbot, sv, runner, people["avery"])
    assert view.retire_button.isEnabled()
    click(qtbot, view.retire_button)
    dialog = view.dialog
    assert isinstance(dialog, ReasonDialog)
    assert "its aliases (production) are removed" in dialog.question_label.text()
    click(qtbot, dialog.confirm_button)
    assert "say why" in dialog.error_label.text()
    assert sv.registry.show(people["aud"], ref="pump-7:v1").state == "approved"
    dialog.reason_edit.setText("bearing model superseded")
    with qtbot.waitSignal(view.sig_retired, timeout=5000):
        click(qtbot, dialog.confirm_button)
    assert runner.wait_idle(5000)

    assert sv.registry.show(people["aud"], ref="pump-7:v1").state == "retired"
    assert sv.registry.lines(people["aud"])[0].aliases == {}
    assert view.version_row("pump-7:v1")[1] == "retired"
    assert view.message_label.text() == "pump-7:v1 retired"
    event = sv.audit.show(people["aud"], AuditFilter(action="model.retire"))[0]
    assert (event.user, event.reason, event.new) == ("avery", "bearing model superseded",
                                                     {"state": "retired"})
    assert not view.retire_button.isEnabled()
    assert "pump-7:v1 is retired: that is final" in view.retire_button.toolTip()
