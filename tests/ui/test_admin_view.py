"""Administration page: accounts (add, roles, reset, unlock) and trusted keys (export, import,
revoke) through the real services, the refusals as sentences, buttons greyed by role."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from app.core.errors import AuthenticationError, PasswordChangeRequired
from app.services import open_services
from app.services.audit import AuditFilter
from app.ui.dialogs.account_dialogs import AddUserDialog, ResetPasswordDialog, RolesDialog
from app.ui.dialogs.reason_dialog import ReasonDialog
from app.ui.main_window import MainWindow
from app.ui.pages.admin_view import AdminView
from tests.ui.conftest import CHEAP, PASSWORDS


def open_view(qtbot, services, runner, principal) -> AdminView:
    """A shown Administration page with its tables loaded."""
    view = AdminView(services, runner, principal)
    qtbot.addWidget(view)
    view.resize(1100, 700)
    with qtbot.waitSignal(view.sig_refreshed, timeout=5000):
        view.show()
    return view


def click(qtbot, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def events(sv, who, action):
    return sv.audit.show(who, AuditFilter(action=action))


def users(sv, admin) -> dict:
    return {u.username: u for u in sv.users.list(admin)}


def test_admin_lands_on_administration_and_sees_accounts_and_keys(qtbot, workspace, runner):
    win = MainWindow(workspace.services, runner, workspace.admin, idle_lock_s=0)
    qtbot.addWidget(win)
    win.show()
    assert win.current_page_name() == "Administration"
    view = win.pages["Administration"]
    assert isinstance(view, AdminView)
    qtbot.waitUntil(lambda: view.user_rows() != [], timeout=5000)
    assert runner.wait_idle(5000)
    assert [r[:3] for r in view.user_rows()] == [
        ("admin", "admin", "active"), ("aud", "auditor", "active"),
        ("erin", "engineer", "active")]
    keys = workspace.services.keys.list(workspace.admin)
    assert sorted(r[0] for r in view.key_rows()) == sorted(k.key_id for k in keys)
    assert win.header.title_label.text() == "Administration"
    assert "trust file" in win.header.hint_label.text()
    assert view.add_button.isEnabled() and view.export_keys_button.isEnabled()
    assert not view.revoke_button.isEnabled()
    assert "select a key first" in view.revoke_button.toolTip()


def test_add_user_makes_the_account_with_its_key_and_audits_it(qtbot, workspace, runner):
    sv, admin = workspace.services, workspace.admin
    view = open_view(qtbot, sv, runner, admin)
    dialog = view.add_user()
    assert isinstance(dialog, AddUserDialog)
    dialog.username_edit.setText("Olga")
    dialog.password_edit.setText("olga-pass-1234")
    dialog.repeat_edit.setText("olga-pass-1234")
    dialog.roles.boxes[next(r for r in dialog.roles.boxes if r.value == "approver")] \
        .setChecked(True)
    with qtbot.waitSignal(view.sig_refreshed, timeout=10_000):
        click(qtbot, dialog.action_button)
    assert not dialog.isVisible()

    assert [r.value for r in users(sv, admin)["olga"].roles] == ["approver"]
    assert ("olga", "approver", "active") in [r[:3] for r in view.user_rows()]
    assert "user olga added with the role approver" in view.message_label.text()
    added = events(sv, admin, "user.add")[0]
    assert (added.user, added.object, added.result) == ("admin", "user:olga", "ok")
    olga_keys = [k for k in sv.keys.list(admin) if k.user == "olga"]
    assert [k.roles for k in olga_keys] == [("approver",)], "her signing key is trusted"
    assert sv.auth.login(username="olga", password="olga-pass-1234").username == "olga"


def test_an_admin_with_a_signing_role_is_refused_in_one_sentence(qtbot, workspace, runner):
    sv, admin = workspace.services, workspace.admin
    view = open_view(qtbot, sv, runner, admin)
    dialog = view.add_user()
    dialog.username_edit.setText("boss")
    dialog.password_edit.setText("boss-pass-1234")
    dialog.repeat_edit.setText("boss-pass-1234")
    dialog.roles.set_roles(["admin", "approver"])
    click(qtbot, dialog.action_button)
    assert runner.wait_idle(10_000)

    assert dialog.isVisible(), "the refusal stays in the dialog"
    text = dialog.error_label.text()
    assert text.startswith("the admin role cannot be held together with approver")
    assert "integrity" not in text and "verification" not in text and "\n" not in text
    assert "boss" not in users(sv, admin)
    refused = events(sv, admin, "user.add")[0]
    assert (refused.object, refused.result) == ("user:boss", "refused")
    dialog.reject()

    # The same rule when roles are changed: erin (engineer) cannot become an administrator.
    assert view.select_user("erin")
    roles = view.set_roles()
    assert isinstance(roles, RolesDialog)
    assert roles.roles.roles() == ["engineer"]
    roles.roles.set_roles(["engineer", "admin"])
    click(qtbot, roles.action_button)
    assert runner.wait_idle(10_000)
    assert "cannot be held together with engineer" in roles.error_label.text()
    assert [r.value for r in users(sv, admin)["erin"].roles] == ["engineer"]
    roles.reject()


def test_roles_change_and_the_last_administrator_keeps_the_role(qtbot, workspace, runner):
    sv, admin = workspace.services, workspace.admin
    view = open_view(qtbot, sv, runner, admin)
    assert view.select_user("aud")
    dialog = view.set_roles()
    dialog.roles.set_roles(["auditor", "operator"])
    with qtbot.waitSignal(view.sig_refreshed, timeout=10_000):
        click(qtbot, dialog.action_button)
    assert [r.value for r in users(sv, admin)["aud"].roles] == ["auditor", "operator"]
    assert events(sv, admin, "user.roles")[0].new == {"roles": ["auditor", "operator"]}

    assert view.select_user("admin")
    last = view.set_roles()
    last.roles.set_roles(["auditor"])
    click(qtbot, last.action_button)
    assert runner.wait_idle(10_000)
    assert last.error_label.text() == "the last administrator cannot give up the admin role"
    assert [r.value for r in users(sv, admin)["admin"].roles] == ["admin"]
    last.reject()


def _lock(sv, name: str) -> None:
    for _ in range(20):
        with pytest.raises(AuthenticationError):
            sv.auth.login(username=name, password="wrong-password")
        if any(u.locked for u in sv.users.list(
                sv.auth.login(username="admin", password=PASSWORDS["admin"]))
               if u.username == name):
            return
    raise AssertionError(f"{name} was never locked")


def test_unlock_clears_the_lockout_with_its_reason_in_the_trail(qtbot, workspace, runner):
    sv, admin = workspace.services, workspace.admin
    _lock(sv, "erin")
    view = open_view(qtbot, sv, runner, admin)
    assert ("erin", "engineer", "locked") in [r[:3] for r in view.user_rows()]
    assert view.select_user("aud")
    assert not view.unlock_button.isEnabled()
    assert "aud is not locked" in view.unlock_button.toolTip()

    assert view.select_user("erin")
    assert view.unlock_button.isEnabled()
    click(qtbot, view.unlock_button)
    dialog = view.dialog
    assert isinstance(dialog, ReasonDialog) and "Unlock erin?" in dialog.question_label.text()
    dialog.reason_edit.setText("identity checked by phone")
    with qtbot.waitSignal(view.sig_refreshed, timeout=10_000):
        click(qtbot, dialog.confirm_button)

    assert not users(sv, admin)["erin"].locked
    assert ("erin", "engineer", "active") in [r[:3] for r in view.user_rows()]
    unlocked = events(sv, admin, "user.unlock")[0]
    assert (unlocked.object, unlocked.reason, unlocked.new) == (
        "user:erin", "identity checked by phone", {"locked": False, "failed_attempts": 0})
    assert sv.auth.login(username="erin", password=PASSWORDS["erin"]).username == "erin"


def test_password_reset_shows_a_one_time_password_the_user_must_replace(qtbot, workspace,
                                                                        runner):
    sv, admin = workspace.services, workspace.admin
    view = open_view(qtbot, sv, runner, admin)
    assert view.select_user("admin")
    assert not view.reset_button.isEnabled()
    assert "your own account" in view.reset_button.toolTip()
    assert view.select_user("erin")
    old_keys = {k.key_id for k in sv.keys.list(admin) if k.user == "erin"}
    dialog = view.reset_password()
    assert isinstance(dialog, ResetPasswordDialog)
    assert dialog.one_time_password() == ""
    with qtbot.waitSignal(dialog.sig_reset, timeout=10_000):
        click(qtbot, dialog.action_button)
    assert runner.wait_idle(10_000)

    temporary = dialog.one_time_password()
    assert len(temporary) == 14 and dialog.password_field.text() == temporary
    assert dialog.isVisible() and dialog.action_button.isHidden()
    assert "shown only now" in dialog.done_label.text()
    assert "password of erin reset" in view.message_label.text()
    event = events(sv, admin, "user.passwd")[0]
    assert event.object == "user:erin" and temporary not in json.dumps(event.new)
    with pytest.raises(AuthenticationError):
        sv.auth.login(username="erin", password=PASSWORDS["erin"])
    with pytest.raises(PasswordChangeRequired):
        sv.auth.login(username="erin", password=temporary)
    sv.auth.complete_reset(username="erin", temporary_password=temporary,
                           new_password="erin-new-pass-99")
    assert sv.auth.login(username="erin", password="erin-new-pass-99").username == "erin"
    keys = {k.key_id: k for k in sv.keys.list(admin) if k.user == "erin"}
    assert all(keys[k].retired for k in old_keys), "the old key is retired"
    dialog.reject()


def test_trust_file_export_asks_before_replacing_and_matches_the_keys(qtbot, workspace, people,
                                                                       runner, tmp_path):
    sv, admin = workspace.services, workspace.admin
    view = open_view(qtbot, sv, runner, admin)
    stick = tmp_path / "usb"
    stick.mkdir()
    target = stick / "trusted-keys.json"
    target.write_text("keep me", encoding="utf-8")
    view.choose_trust_file_to_write = lambda: target
    asked = []
    view.confirm_overwrite = lambda path: asked.append(path) or False
    click(qtbot, view.export_keys_button)
    assert asked == [target]
    assert target.read_text(encoding="utf-8") == "keep me"
    assert "not exported" in view.message_label.text()

    view.confirm_overwrite = lambda path: True
    with qtbot.waitSignal(view.sig_changed, timeout=10_000):
        click(qtbot, view.export_keys_button)
    assert runner.wait_idle(5000)
    doc = json.loads(target.read_text(encoding="utf-8"))
    signing = {k.key_id for k in sv.keys.list(admin)}
    assert len(signing) == 3, "erin, avery and dual sign releases"
    written = {k["key_id"]: k for k in doc["keys"]}
    assert signing <= set(written)
    # ... and this workstation's command key, the only one a controller obeys (protocol 2).
    [command] = [k for key_id, k in written.items() if key_id not in signing]
    assert command["user"].startswith("workstation:") and command["roles"] == ["operator"]
    n = len(doc["keys"])
    assert f"{n} trusted keys written to {target}" in view.message_label.text()
    assert events(sv, admin, "keys.export")[0].result == "ok"

    # A folder instead of a file: the service's sentence, never a traceback.
    view.choose_trust_file_to_write = lambda: stick
    click(qtbot, view.export_keys_button)
    assert runner.wait_idle(5000)
    assert "is a folder; name the file" in view.message_label.text()
    assert "internal error" not in view.message_label.text()


def test_revoke_a_key_with_a_reason(qtbot, workspace, runner):
    sv, admin = workspace.services, workspace.admin
    erin_key = next(k for k in sv.keys.list(admin) if k.user == "erin")
    view = open_view(qtbot, sv, runner, admin)
    assert view.select_key(erin_key.key_id)
    dialog = view.revoke_key()
    assert isinstance(dialog, ReasonDialog) and "cannot be undone" in dialog.question_label.text()
    click(qtbot, dialog.confirm_button)
    assert "say why" in dialog.error_label.text(), "no reason, nothing asked"
    dialog.reason_edit.setText("laptop lost")
    with qtbot.waitSignal(view.sig_refreshed, timeout=10_000):
        click(qtbot, dialog.confirm_button)

    key = next(k for k in sv.keys.list(admin) if k.key_id == erin_key.key_id)
    assert key.revoked
    row = next(r for r in view.key_rows() if r[0] == key.key_id)
    assert row[3].startswith("revoked ")
    revoked = events(sv, admin, "keys.manage")[0]
    assert (revoked.object, revoked.reason, revoked.new["revoked"]) == (
        f"key:{key.key_id}", "laptop lost", True)
    assert view.select_key(key.key_id)
    assert not view.revoke_button.isEnabled()
    assert "already revoked" in view.revoke_button.toolTip()


def test_import_trusts_another_workstations_keys(qtbot, workspace, runner, tmp_path):
    sv, admin = workspace.services, workspace.admin
    other = open_services(tmp_path / "b", create=True, hash_params=CHEAP)
    try:
        admin_b = other.auth.bootstrap_admin(username="boss", password=PASSWORDS["admin"])
        other.users.add(admin_b, username="bert", password="bert-pass-1234",
                        roles=["approver"])
        file_b = tmp_path / "b-keys.json"
        other.keys.export(admin_b, path=file_b)
        bert = next(k.key_id for k in other.keys.list(admin_b) if k.user == "bert")
    finally:
        other.close()
    view = open_view(qtbot, sv, runner, admin)
    view.choose_trust_file_to_read = lambda: file_b
    click(qtbot, view.import_keys_button)
    dialog = view.dialog
    assert isinstance(dialog, ReasonDialog)
    dialog.reason_edit.setText("keys of workstation B")
    with qtbot.waitSignal(view.sig_refreshed, timeout=10_000):
        click(qtbot, dialog.confirm_button)
    assert bert in {k.key_id for k in sv.keys.list(admin)}
    assert bert in [r[0] for r in view.key_rows()]
    assert "added or revoked from b-keys.json" in view.message_label.text()
    event = events(sv, admin, "keys.manage")[0]
    assert event.reason == "keys of workstation B" and bert in event.new["keys"]

    # A file that is no trust file: said in the dialog, nothing changed.
    junk = tmp_path / "junk.json"
    junk.write_text("[1, 2]", encoding="utf-8")
    view.choose_trust_file_to_read = lambda: junk
    dialog = view.import_keys()
    dialog.reason_edit.setText("try")
    click(qtbot, dialog.confirm_button)
    assert runner.wait_idle(5000)
    assert dialog.isVisible()
    assert "is not a PlantML trusted-keys export" in dialog.error_label.text()
    dialog.reject()


def test_an_auditor_reads_but_every_change_names_the_admin_role(qtbot, workspace, runner):
    sv = workspace.services
    view = open_view(qtbot, sv, runner, workspace.auditor)
    assert len(view.user_rows()) == 3 and view.key_rows()
    assert view.select_user("erin")
    for button in view.action_buttons():
        assert not button.isEnabled(), button.text()
        assert button.toolTip().endswith(
            " needs the admin role; you are signed in as aud (auditor)"), button.toolTip()
    assert view.add_button.toolTip() == ("Adding a user needs the admin role; you are signed "
                                         "in as aud (auditor)")
    assert view.revoke_button.toolTip().startswith("Revoking a key needs the admin role")


def test_an_engineer_is_told_accounts_are_not_theirs_and_nothing_is_refused_in_the_trail(
        qtbot, workspace, runner):
    sv = workspace.services
    before = len(sv.audit.show(workspace.admin, AuditFilter(result="refused")))
    view = open_view(qtbot, sv, runner, workspace.engineer)
    assert view.user_rows() == []
    assert view.users_note.text() == ("Viewing accounts needs the auditor or admin role; you "
                                      "are signed in as erin (engineer)")
    assert view.key_rows(), "the keys that sign releases are readable to model readers"
    assert not any(b.isEnabled() for b in view.action_buttons())
    assert len(sv.audit.show(workspace.admin, AuditFilter(result="refused"))) == before
