"""13.16: the schema's protections (append-only triggers) are checked by audit verify and at
start-up; a missing or altered one is an audited alarm, verify fails, start-up restores it;
an existing workspace gains the new protections by an Alembic migration."""

from __future__ import annotations

import sqlite3

import pytest

from app.services import open_services
from app.services.audit import AuditFilter
from app.store.protections import PROTECTIONS
from tests.audit.tamper import TRIGGERS, raw, rewrite
from tests.conftest import password_of


def _triggers(path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}


@pytest.mark.parametrize("name", sorted(PROTECTIONS))
def test_13_16_a_dropped_protection_fails_verify_and_is_an_alarm(services, people, name):
    services.db.dispose()
    with sqlite3.connect(services.paths.db) as conn:
        conn.execute(f"DROP TRIGGER {name}")
    report = services.audit.verify(people["auditor"])
    assert not report.ok, report.summary()
    assert name in report.problem and "protections" in report.problem
    alarms = services.audit.show(people["admin"], AuditFilter(action="schema.protection"))
    assert alarms and alarms[0].result == "alarm" and name in alarms[0].new["missing"]


def test_13_16_start_up_restores_the_protections_with_an_alarm(services, people):
    services.close()
    with sqlite3.connect(services.paths.db) as conn:
        conn.execute("DROP TRIGGER audit_events_no_delete")
        # Replaced by one that lets everything through: as bad as dropped.
        conn.execute("DROP TRIGGER audit_events_no_update")
        conn.execute("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                     "BEGIN SELECT 1; END")
    with open_services(services.paths.home) as sv:
        admin = sv.auth.login(username="admin", password=password_of("admin"))
        [alarm] = sv.audit.show(admin, AuditFilter(action="schema.protection"))
        assert set(alarm.new["restored"]) == {"audit_events_no_delete",
                                              "audit_events_no_update"}
        report = sv.audit.verify(admin)
        assert report.ok, report.summary()
        assert any("integrity alarm" in n for n in report.notes)
    assert set(PROTECTIONS) <= _triggers(services.paths.db)
    conn = sqlite3.connect(services.paths.db)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_events SET body = body WHERE seq = 1")
    conn.close()


def test_signatures_and_signing_keys_are_append_only(services, people):
    from app.core.roles import Action

    services.auth.esign(people["auditor"], password=password_of("auditor1"),
                        action=Action.AUDIT_EXPORT, meaning="reviewed", reason="r",
                        record_type="audit-export", record_id="x", record_hash="0" * 64)
    services.db.dispose()
    conn = sqlite3.connect(services.paths.db)
    for sql in ("UPDATE signatures SET reason = 'other'", "DELETE FROM signatures",
                "DELETE FROM user_keys", "UPDATE user_keys SET public_key = x'00'"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only|never deleted|cannot be"):
            conn.execute(sql)
    conn.execute("UPDATE user_keys SET revoked_at = revoked_at")  # revocation stays possible
    conn.close()


def test_a_workspace_of_the_previous_release_is_upgraded_and_sealed(services, people):
    """A workspace as the release before this one left it: schema 0004, no seals, the
    private key in the clear. Opening it migrates the schema, seals the state once, and
    verification holds."""
    from alembic import command

    from app.store.migrate import alembic_config

    for i in range(6):
        services.settings.set(people["admin"], key="security.idle_lock_minutes", value=10 + i)
    conn = raw(services)
    rewrite(conn, lambda _seq, body: None if '"action":"security.state"' in body else body)
    from app.audit.keys import AuditKey
    from tests.audit.tamper import resign

    resign(conn, AuditKey.load_or_create(services.paths.keys), services.ctx.trail.latest_file,
           5)
    for name in TRIGGERS:  # as the old release had them
        conn.execute(PROTECTIONS[name])
    conn.close()
    cfg = alembic_config()
    with services.db.engine.begin() as c:
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0004")
    services.db.dispose()
    assert not {"signatures_no_update", "user_keys_fixed"} & _triggers(services.paths.db)
    with open_services(services.paths.home) as sv:
        aud = sv.auth.login(username="auditor1", password=password_of("auditor1"))
        seals = sv.audit.show(aud, AuditFilter(action="security.state"))
        assert len(seals) == 1 and "upgraded" in seals[0].reason
        assert sv.audit.show(aud, AuditFilter(action="workspace.upgrade"))
        report = sv.audit.verify(aud)
        assert report.ok, report.summary()
        assert not sv.audit.show(aud, AuditFilter(result="alarm"))
    assert set(PROTECTIONS) <= _triggers(services.paths.db)
