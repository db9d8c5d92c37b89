"""Propose and approve through the dialogs: state, signatures, four eyes, wrong password."""

from __future__ import annotations

from app.services.audit import AuditFilter
from app.ui.dialogs.approval_dialog import ApprovalDialog
from app.ui.dialogs.propose_dialog import ProposeDialog, parse_hardware_ids
from tests.services.release_kit import register
from tests.services.vibration_kit import register_not_robust
from tests.ui.conftest import PASSWORDS
from tests.ui.models_kit import click, open_view, propose


def _meanings(view) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in view.signature_rows()]


def _approval_dialog(qtbot, view) -> ApprovalDialog:
    assert view.approve_button.isEnabled(), view.approve_button.toolTip()
    click(qtbot, view.approve_button)
    dialog = view.dialog
    assert isinstance(dialog, ApprovalDialog) and dialog.isVisible()
    return dialog


def _sign(qtbot, dialog, runner, reason: str, password: str) -> None:
    dialog.reason_edit.setText(reason)
    dialog.password_edit.setText(password)
    click(qtbot, dialog.sign_button)
    assert runner.wait_idle(5000)


def test_proposing_through_the_dialog_changes_the_state(qtbot, workspace, people, runner):
    sv = workspace.services
    register(sv, people["erin"])
    view = open_view(qtbot, sv, runner, people["erin"])
    assert view.version_row("pump-7:v1")[1] == "validated"
    assert view.propose_button.isEnabled(), view.propose_button.toolTip()

    click(qtbot, view.propose_button)
    dialog = view.dialog
    assert isinstance(dialog, ProposeDialog) and dialog.isVisible()
    assert "accuracy 0.995" in dialog.evidence_view.toPlainText()
    dialog.hardware_edit.setText("EDGE-01, EDGE-02")
    dialog.days_spin.setValue(30)
    with qtbot.waitSignal(dialog.sig_signed, timeout=5000) as signed:
        _sign(qtbot, dialog, runner, "ready for line 3", PASSWORDS["erin"])
    assert runner.wait_idle(5000)

    assert signed.args[0].proposed_by == "erin"
    assert not dialog.isVisible() and dialog.password_edit.text() == ""
    assert view.version_row("pump-7:v1")[1] == "proposed"
    assert "waiting for an approver" in view.panel.state_label.text()
    assert _meanings(view) == [("released", "erin")]
    assert not view.propose_button.isEnabled(), "a version is proposed once"
    event = sv.audit.show(people["admin"], AuditFilter(action="model.propose"))[0]
    assert event.new["hardware_ids"] == ["EDGE-01", "EDGE-02"]
    assert event.reason == "ready for line 3"


def test_an_approver_approves_and_both_signatures_show(qtbot, workspace, people, runner):
    sv = workspace.services
    register(sv, people["erin"])
    propose(sv, people["erin"])
    view = open_view(qtbot, sv, runner, people["avery"])
    assert view.version_row("pump-7:v1")[1] == "proposed"

    dialog = _approval_dialog(qtbot, view)
    evidence = dialog.evidence_view.toPlainText()
    assert "proposed by erin" in evidence and "parity gate: passed" in evidence
    assert "accuracy 0.995" in evidence and "EDGE-01" in evidence
    click(qtbot, dialog.approve_radio)
    with qtbot.waitSignal(dialog.sig_signed, timeout=5000):
        _sign(qtbot, dialog, runner, "validation and parity reviewed", PASSWORDS["avery"])
    assert runner.wait_idle(5000)

    assert not dialog.isVisible()
    assert view.version_row("pump-7:v1")[1] == "approved"
    assert _meanings(view) == [("released", "erin"), ("approved", "avery")]
    assert view.signature_rows()[1][3] == "validation and parity reviewed"
    assert sv.registry.show(people["aud"], ref="pump-7:v1").state == "approved"
    assert not view.approve_button.isEnabled()
    actions = [e.action for e in view.panel.history_model.events()]
    assert actions[:1] == ["model.register"] and "model.approve" in actions


def test_the_proposer_sees_the_four_eyes_refusal(qtbot, workspace, people, runner):
    sv = workspace.services
    register(sv, people["dual"])
    propose(sv, people["dual"])
    view = open_view(qtbot, sv, runner, people["dual"])

    dialog = _approval_dialog(qtbot, view)  # the role allows it; the record does not
    click(qtbot, dialog.approve_radio)
    _sign(qtbot, dialog, runner, "my own work is fine", PASSWORDS["dual"])

    assert dialog.isVisible()
    assert "four eyes" in dialog.error_label.text()
    assert "Traceback" not in dialog.error_label.text()
    assert dialog.sign_button.isEnabled() and dialog.password_edit.text() == ""
    info = sv.registry.show(people["aud"], ref="pump-7:v1")
    assert info.state == "validated" and [s.meaning for s in info.signatures] == ["released"]
    dialog.reject()


def test_a_wrong_password_shows_an_error_and_signs_nothing(qtbot, workspace, people, runner):
    sv = workspace.services
    register(sv, people["erin"])
    propose(sv, people["erin"])
    view = open_view(qtbot, sv, runner, people["avery"])

    dialog = _approval_dialog(qtbot, view)
    click(qtbot, dialog.reject_radio)
    _sign(qtbot, dialog, runner, "drift on channel 2", "not-avery's-password")

    assert dialog.isVisible()
    assert dialog.error_label.text() == "the password was not confirmed; nothing was signed"
    assert dialog.password_edit.text() == "", "a password is entered anew for every attempt"
    info = sv.registry.show(people["aud"], ref="pump-7:v1")
    assert info.state == "validated" and len(info.signatures) == 1
    assert view.version_row("pump-7:v1")[1] == "proposed"
    refused = sv.audit.show(people["admin"], AuditFilter(action="esign", result="refused"))
    assert refused and refused[0].user == "avery"
    dialog.reject()


def test_missing_meaning_reason_or_password_is_caught_in_the_dialog(qtbot, workspace, people,
                                                                    runner):
    sv = workspace.services
    register(sv, people["erin"])
    propose(sv, people["erin"])
    view = open_view(qtbot, sv, runner, people["avery"])
    dialog = _approval_dialog(qtbot, view)
    before = len(sv.audit.show(people["admin"]))

    _sign(qtbot, dialog, runner, "", PASSWORDS["avery"])
    assert dialog.error_label.text() == "a signature needs a reason"
    assert dialog.password_edit.text() == PASSWORDS["avery"], "kept for the next try"
    _sign(qtbot, dialog, runner, "fine", "")
    assert dialog.error_label.text() == "enter your password to sign"
    _sign(qtbot, dialog, runner, "fine", PASSWORDS["avery"])
    assert dialog.error_label.text() == "choose approved or rejected"
    assert dialog.password_edit.text() == PASSWORDS["avery"], "kept for the next try"
    assert len(sv.audit.show(people["admin"])) == before, "nothing reached the services"
    dialog.reject()


def test_propose_dialog_needs_hardware_ids(qtbot, workspace, people, runner):
    sv = workspace.services
    register(sv, people["erin"])
    view = open_view(qtbot, sv, runner, people["erin"])
    dialog = view.propose()
    assert isinstance(dialog, ProposeDialog)
    dialog.hardware_edit.setText(" , ")
    _sign(qtbot, dialog, runner, "ready", PASSWORDS["erin"])
    assert dialog.error_label.text() == "name at least one hardware id"
    dialog.hardware_edit.setText("*")
    _sign(qtbot, dialog, runner, "ready", PASSWORDS["erin"])
    assert "'*' is not allowed" in dialog.error_label.text()
    assert sv.registry.show(people["erin"], ref="pump-7:v1").proposed_by is None
    assert parse_hardware_ids("EDGE-01,EDGE-02  EDGE-03") == ["EDGE-01", "EDGE-02", "EDGE-03"]
    dialog.reject()


def test_a_not_robust_version_needs_the_explicit_acceptance(qtbot, workspace, people, runner):
    sv = workspace.services
    register_not_robust(sv, people["erin"])
    propose(sv, people["erin"])
    view = open_view(qtbot, sv, runner, people["avery"])
    dialog = _approval_dialog(qtbot, view)
    evidence = dialog.evidence_view.toPlainText()
    assert "NOT ROBUST" in evidence and "gain x0.5" in evidence and "load=2hp" in evidence
    assert "Input acc: unit g, scale 100 mV/g" in evidence
    assert "Envelope conditions: load=0hp, load=2hp" in evidence
    assert not dialog.accept_box.isHidden()

    click(qtbot, dialog.approve_radio)
    _sign(qtbot, dialog, runner, "robustness reviewed", PASSWORDS["avery"])
    assert dialog.isVisible() and "NOT ROBUST" in dialog.error_label.text()
    assert sv.registry.show(people["aud"], ref="pump-7:v1").state == "validated"

    dialog.accept_box.setChecked(True)
    with qtbot.waitSignal(dialog.sig_signed, timeout=5000):
        _sign(qtbot, dialog, runner, "not robust to gain: one sensor type on line 3",
              PASSWORDS["avery"])
    assert sv.registry.show(people["aud"], ref="pump-7:v1").state == "approved"
    [event] = sv.audit.show(people["admin"], AuditFilter(action="model.approve", result="ok"))
    assert event.new["accepted_not_robust"] is True


def test_a_robust_version_shows_no_acceptance_box(qtbot, workspace, people, runner):
    sv = workspace.services
    register(sv, people["erin"])
    propose(sv, people["erin"])
    view = open_view(qtbot, sv, runner, people["avery"])
    dialog = _approval_dialog(qtbot, view)
    assert dialog.accept_box.isHidden()
    assert "Robustness: not measured" in dialog.evidence_view.toPlainText()
    dialog.reject()
