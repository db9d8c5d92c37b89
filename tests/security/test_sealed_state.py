"""15.2 / 13.15: who may sign (trust store, roles, signing keys, integrity settings) is sealed
in the audit chain; a change made by SQL is refused wherever it matters, audited as an alarm,
and fails audit verify."""

from __future__ import annotations

import json
import sqlite3

import pytest

from app.core.errors import IntegrityError, PermissionDenied, SecurityStateTampered
from app.core.roles import Action
from app.services.audit import AuditFilter
from tests.conftest import password_of
from tests.packages.kit import HW, Kit


def _sql(services, *statements: tuple[str, tuple]) -> None:
    services.db.dispose()
    conn = sqlite3.connect(services.paths.db)
    for sql, params in statements:
        conn.execute(sql, params)
    conn.commit()
    conn.close()


def _forge_trust(services, kit: Kit) -> None:
    """The attack of the campaign: two keys added to the trust store row by SQL."""
    services.db.dispose()
    conn = sqlite3.connect(services.paths.db)
    row = conn.execute("SELECT value FROM settings WHERE key = 'packages.trust_store'"
                       ).fetchone()
    doc = json.loads(row[0]) if row else {"keys": [], "counters": {}}
    doc["keys"] += kit.trust.to_dict()["keys"]
    conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('packages.trust_store', ?)",
                 (json.dumps(doc),))
    conn.commit()
    conn.close()


def _alarms(services, admin) -> list:
    return services.audit.show(admin, AuditFilter(action="security.alarm"))


def test_legitimate_changes_are_sealed_and_verify(services, people):
    seals = services.audit.show(people["admin"], AuditFilter(action="security.state"))
    assert seals, "creating accounts must seal the new roles and keys"
    assert {"roles", "keys", "trust"} <= {p for e in seals for p in e.new["changed"]}
    assert services.audit.verify(people["auditor"]).ok


def test_15_2_trust_store_forged_by_sql_is_refused_everywhere(services, people, tmp_path):
    kit = Kit(root=tmp_path / "forger")
    forged = kit.build(model_name="pump-7")
    _forge_trust(services, kit)
    opr, admin = people["operator"], people["admin"]
    with pytest.raises(SecurityStateTampered, match="trust store"):
        services.packages.verify(opr, path=forged, hardware_id=HW)
    with pytest.raises(SecurityStateTampered, match="changed outside PlantML"):
        services.packages.import_from_drive(opr, path=forged)
    with pytest.raises(SecurityStateTampered):
        services.keys.export(admin, path=tmp_path / "trust.json")
    assert not (tmp_path / "trust.json").exists()
    assert services.registry.lines(people["engineer"]) == []
    report = services.audit.verify(people["auditor"])
    assert not report.ok and "trust store" in report.problem
    assert len(_alarms(services, admin)) >= 3


def test_15_2_no_change_through_plantml_launders_a_forged_state(services, people, tmp_path):
    _forge_trust(services, Kit(root=tmp_path / "forger"))
    with pytest.raises(SecurityStateTampered):
        services.users.add(people["admin"], username="newbie", password=password_of("newbie"),
                           roles=["engineer"])
    assert "newbie" not in {u.username for u in services.users.list(people["admin"])}
    assert not services.audit.verify(people["auditor"]).ok


def test_13_15_a_role_added_by_sql_cannot_sign(services, people):
    from tests.services.release_kit import register

    v = register(services, people["engineer"])
    services.approvals.propose(people["engineer"], ref=v.ref,
                               password=password_of("engineer1"), hardware_ids=["HW"],
                               reason="ready")
    _sql(services, ("INSERT INTO user_roles (user_id, role) VALUES (?, 'approver')",
                    (people["operator"].user_id,)))
    promoted = services.auth.login(username="operator1", password=password_of("operator1"))
    with pytest.raises(SecurityStateTampered, match="roles"):
        services.approvals.decide(promoted, ref=v.ref, password=password_of("operator1"),
                                  meaning="approved", reason="self-promoted")
    assert services.registry.show(people["approver"], ref=v.ref).state == "validated"
    report = services.audit.verify(people["auditor"])
    assert not report.ok and "roles" in report.problem


def test_13_15_a_signing_key_added_by_sql_is_refused(services, people):
    _sql(services, ("INSERT INTO user_keys (key_id, user_id, public_key, private_key_enc, "
                    "created_at) VALUES ('ffffffffffffffff', ?, ?, ?, '2999-01-01')",
                    (people["approver"].user_id, b"\x00" * 32, b"forged")))
    with pytest.raises(SecurityStateTampered, match="signing keys"):
        services.auth.esign(people["auditor"], password=password_of("auditor1"),
                            action=Action.AUDIT_EXPORT, meaning="reviewed", reason="r",
                            record_type="audit-export", record_id="x", record_hash="0" * 64)
    assert not services.audit.verify(people["auditor"]).ok


def test_13_15_a_raised_checkpoint_interval_fails_verify(services, people):
    _sql(services, ("INSERT OR REPLACE INTO settings (key, value) VALUES "
                    "('audit.checkpoint_interval', '1000000')", ()))
    report = services.audit.verify(people["auditor"])
    assert not report.ok and "integrity settings" in report.problem


def test_an_alarm_is_recorded_when_the_workspace_opens(services, people, tmp_path):
    from app.services import open_services

    _forge_trust(services, Kit(root=tmp_path / "forger"))
    with open_services(services.paths.home) as sv:
        alarms = _alarms(sv, sv.auth.login(username="admin", password=password_of("admin")))
    assert alarms and "trust store" in alarms[0].reason


def test_an_administrator_reseals_a_reviewed_state(services, people, tmp_path):
    _forge_trust(services, Kit(root=tmp_path / "forger"))
    with pytest.raises(PermissionDenied):
        services.audit.reseal(people["engineer"], reason="looks fine")
    assert services.audit.reseal(people["admin"], reason="keys of the new line, checked "
                                 "with the vendor") == ["trust"]
    assert services.audit.verify(people["auditor"]).ok
    [event] = services.audit.show(people["admin"], AuditFilter(action="security.reseal",
                                                                 result="ok"))
    assert event.new["parts"] == ["trust"] and "vendor" in event.reason


def test_an_admin_role_added_by_sql_cannot_reseal(services, people, tmp_path):
    _forge_trust(services, Kit(root=tmp_path / "forger"))
    _sql(services, ("INSERT INTO user_roles (user_id, role) VALUES (?, 'admin')",
                    (people["engineer"].user_id,)))
    boss = services.auth.login(username="engineer1", password=password_of("engineer1"))
    with pytest.raises(PermissionDenied, match="not an administrator when"):
        services.audit.reseal(boss, reason="all good")
    assert not services.audit.verify(people["auditor"]).ok


def test_verify_refuses_with_integrity_error_type(services, people, tmp_path):
    kit = Kit(root=tmp_path / "forger")
    _forge_trust(services, kit)
    with pytest.raises(IntegrityError):
        services.keys.list(people["engineer"])
