"""15.3: an administrator's password reset never hands the administrator a usable signing key
of another person, and earlier signatures stay valid. 15.5: wrong passwords never lock the
last administrator for good; a one-time recovery code printed at init opens it, audited."""

from __future__ import annotations

import pytest

from app.cli import main as cli_main
from app.core.clock import FakeClock
from app.core.errors import AuthenticationError, PasswordChangeRequired
from app.services import open_services
from app.services.audit import AuditFilter
from tests.conftest import FAST, password_of
from tests.services.release_kit import register


def _release(services, people, line: str, approver=None, password=None):
    v = register(services, people["engineer"], line=line)
    services.approvals.propose(people["engineer"], ref=v.ref,
                               password=password_of("engineer1"), hardware_ids=["HW"],
                               reason="ready")
    if approver is not None:
        services.approvals.decide(approver, ref=v.ref, password=password, meaning="approved",
                                  reason="reviewed")
    return v


def test_15_3_a_reset_never_hands_the_admin_a_usable_signing_key(services, people, tmp_path):
    opr, admin, apr = people["operator"], people["admin"], people["approver"]
    v1 = _release(services, people, "pump-7", apr, password_of("approver1"))
    p1 = services.packages.build(opr, ref=v1.ref, out_dir=tmp_path / "p1")
    services.users.set_password(admin, username="approver1", password="the-admin-knows-it")
    # The administrator knows the new password, yet cannot sign in or sign as the approver.
    with pytest.raises(PasswordChangeRequired, match="choose your own"):
        services.auth.login(username="approver1", password="the-admin-knows-it")
    v2 = _release(services, people, "pump-8")
    with pytest.raises(AuthenticationError):
        services.approvals.decide(apr, ref=v2.ref, password="the-admin-knows-it",
                                  meaning="approved", reason="as the admin")
    assert services.registry.show(opr, ref=v2.ref).state == "validated"
    # What the approver signed before the reset stays valid.
    assert services.packages.verify(opr, path=p1).signers[1] == "approver:approver1"
    # The approver chooses their own password, which makes a new key, and signs again.
    me = services.auth.complete_reset(username="approver1",
                                      temporary_password="the-admin-knows-it",
                                      new_password="only-the-approver-knows")
    services.approvals.decide(me, ref=v2.ref, password="only-the-approver-knows",
                              meaning="approved", reason="reviewed")
    p2 = services.packages.build(opr, ref=v2.ref, out_dir=tmp_path / "p2")
    assert services.packages.verify(opr, path=p2).signers[1] == "approver:approver1"
    keys = {k.key_id: k for k in services.keys.list(opr) if k.user == "approver1"}
    assert len(keys) == 2
    assert [k.retired for k in keys.values()].count(True) == 1
    assert not any(k.revoked for k in keys.values())
    assert services.audit.verify(people["auditor"]).ok


def test_15_3_complete_reset_refuses_the_temporary_password_as_the_new_one(services, people):
    services.users.set_password(people["admin"], username="engineer1", password="temporary-1")
    from app.core.errors import UsageError

    with pytest.raises(UsageError, match="of your own"):
        services.auth.complete_reset(username="engineer1", temporary_password="temporary-1",
                                     new_password="temporary-1")
    with pytest.raises(AuthenticationError):
        services.auth.complete_reset(username="engineer1", temporary_password="wrong-one-1",
                                     new_password="engineers-own-1")


@pytest.fixture
def clocked(home):
    clock = FakeClock()
    sv = open_services(home, create=True, hash_params=FAST, clock=clock)
    try:
        yield sv, clock
    finally:
        sv.close()


def _wrong(sv, name="admin", times=1):
    for _ in range(times):
        with pytest.raises(AuthenticationError):
            sv.auth.login(username=name, password="not-the-password")


def test_15_5_the_last_administrator_waits_instead_of_being_locked(clocked):
    sv, clock = clocked
    admin, _code = sv.auth.initialize(username="admin", password=password_of("admin"))
    _wrong(sv, times=5)
    with pytest.raises(AuthenticationError, match="wait 30 s"):
        sv.auth.login(username="admin", password=password_of("admin"))
    clock.jump(31)
    assert sv.auth.login(username="admin", password=password_of("admin"))
    # The wait grows with every further failure, and the account never locks.
    _wrong(sv, times=5)
    clock.jump(31)
    _wrong(sv)
    with pytest.raises(AuthenticationError, match="wait 60 s"):
        sv.auth.login(username="admin", password=password_of("admin"))
    clock.jump(61)
    me = sv.auth.login(username="admin", password=password_of("admin"))
    assert not [u for u in sv.users.list(me) if u.locked]
    throttles = sv.audit.show(me, AuditFilter(action="user.throttle"))
    # 30 s after five failures; a good sign-in starts the count again; then 30 s, 60 s.
    assert [e.new["wait_s"] for e in reversed(throttles)] == [30, 30, 60]


def test_15_5_with_a_second_administrator_the_first_is_locked_as_usual(clocked):
    sv, _clock = clocked
    admin, _code = sv.auth.initialize(username="admin", password=password_of("admin"))
    sv.users.add(admin, username="admin2", password=password_of("admin2"), roles=["admin"])
    _wrong(sv, times=5)
    with pytest.raises(AuthenticationError, match="invalid user name"):
        sv.auth.login(username="admin", password=password_of("admin"))
    boss = sv.auth.login(username="admin2", password=password_of("admin2"))
    assert [u.locked for u in sv.users.list(boss) if u.username == "admin"] == [True]


def test_15_5_recovery_code_opens_a_locked_administrator_once(clocked, home):
    sv, _clock = clocked
    admin, code = sv.auth.initialize(username="admin", password=password_of("admin"))
    sv.users.add(admin, username="admin2", password=password_of("admin2"), roles=["admin"])
    _wrong(sv, times=5)  # locked: a second administrator exists
    with pytest.raises(AuthenticationError, match="recovery code"):
        sv.auth.recover_admin(username="admin", code="AAAAA-AAAAA-AAAAA-AAAAA-AAAAA",
                              new_password="recovered-password-1")
    with pytest.raises(AuthenticationError):
        sv.auth.recover_admin(username="admin2x", code=code, new_password="recovered-password-1")
    me, new_code = sv.auth.recover_admin(username="admin", code=code.lower().replace("-", " "),
                                         new_password="recovered-password-1")
    assert new_code != code
    assert sv.auth.login(username="admin", password="recovered-password-1")
    with pytest.raises(AuthenticationError):  # used up
        sv.auth.recover_admin(username="admin", code=code, new_password="again-password-1")
    events = sv.audit.show(me, AuditFilter(action="user.recover"))
    assert [e.result for e in reversed(events)] == ["refused", "refused", "ok", "refused"]
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert code.replace("-", "").encode() not in data, path
            assert new_code.replace("-", "").encode() not in data, path
    assert sv.audit.verify(me).ok


def test_15_5_init_prints_the_code_and_recover_admin_uses_it(tmp_path, monkeypatch, capsys):
    home = tmp_path / "ws"
    monkeypatch.setenv("PLANTML_HOME", str(home))
    monkeypatch.setenv("PLANTML_NEW_PASSWORD", "boss-password-1")
    assert cli_main.main(["init", "--admin", "boss"]) == 0
    out = capsys.readouterr().out
    code = next(line.split(": ", 1)[1].strip() for line in out.splitlines()
                if line.startswith("recovery code"))
    assert len(code) == 29 and "keep it in the plant's safe" in out
    with open_services(home) as sv:
        for _ in range(5):
            with pytest.raises(AuthenticationError):
                sv.auth.login(username="boss", password="guessing-wrong")
    monkeypatch.setenv("PLANTML_RECOVERY_CODE", code)
    monkeypatch.setenv("PLANTML_NEW_PASSWORD", "boss-password-2")
    assert cli_main.main(["recover-admin", "--admin", "boss"]) == 0
    out = capsys.readouterr().out
    assert "new recovery code" in out and code not in out
    monkeypatch.setenv("PLANTML_USER", "boss")
    monkeypatch.setenv("PLANTML_PASSWORD", "boss-password-2")
    assert cli_main.main(["user", "list"]) == 0
