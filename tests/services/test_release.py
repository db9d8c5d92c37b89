"""Four eyes, signed packages and USB transfer between two workstations (issue 5)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from app.core.errors import (
    AuthenticationError,
    Conflict,
    IntegrityError,
    PermissionDenied,
    UsageError,
)
from app.packages import PackageRefused
from app.services import open_services
from app.services.audit import AuditFilter
from tests.audit.tamper import RawConnection
from tests.conftest import FAST, open_on, password_of
from tests.services.release_kit import register


def _workspace(home, names, backend="sqlite", request=None):
    sv = (open_services(home, create=True, hash_params=FAST) if request is None else
          open_on(backend, home, request, checkpoint_interval=None))
    admin = sv.auth.bootstrap_admin(username="admin", password=password_of("admin"))
    people = {"admin": admin}
    for name, roles in names.items():
        sv.users.add(admin, username=name, password=password_of(name), roles=roles)
        people[name] = sv.auth.login(username=name, password=password_of(name))
    return sv, people


@pytest.fixture
def plant(tmp_path, backend, request):
    sv, p = _workspace(tmp_path / "a", {"erin": ["engineer"], "avery": ["approver"],
                                        "omar": ["operator"], "dual": ["engineer", "approver"]},
                       backend, request)
    yield sv, p
    sv.close()


def _propose(sv, who, ref="pump-7:v1"):
    return sv.approvals.propose(who, ref=ref, password=password_of(who.username),
                                hardware_ids=["EDGE-01"], reason="ready for line 3")


def test_four_eyes_and_signature_binding(plant):
    sv, p = plant
    register(sv, p["dual"])
    with pytest.raises(Conflict, match="not been proposed"):
        sv.approvals.decide(p["avery"], ref="pump-7:v1", password=password_of("avery"),
                            meaning="approved", reason="ok")
    proposed = _propose(sv, p["dual"])
    assert proposed.proposed_by == "dual" and proposed.release_counter == 1
    with pytest.raises(PermissionDenied, match="four eyes"):
        sv.approvals.decide(p["dual"], ref="pump-7:v1", password=password_of("dual"),
                            meaning="approved", reason="my own")
    with pytest.raises(PermissionDenied):
        sv.approvals.decide(p["erin"], ref="pump-7:v1", password=password_of("erin"),
                            meaning="approved", reason="not an approver")
    with pytest.raises(AuthenticationError):
        sv.approvals.decide(p["avery"], ref="pump-7:v1", password="wrong-password",
                            meaning="approved", reason="looks good")
    approved = sv.approvals.decide(p["avery"], ref="pump-7:v1", password=password_of("avery"),
                                   meaning="approved", reason="validation and parity reviewed")
    assert approved.state == "approved"
    assert [(x.meaning, x.username) for x in approved.signatures] == [
        ("released", "dual"), ("approved", "avery")]
    refused = sv.audit.show(p["admin"], AuditFilter(action="model.approve", result="refused"))
    # Every refusal is audited (the early "not proposed yet" too); the four-eyes one is there.
    assert refused and any("four eyes" in e.reason for e in refused)
    # Move the approval onto another version: it no longer verifies.
    register(sv, p["erin"])
    conn = RawConnection(sv)
    # An attacker with the file first drops the append-only protection of signatures.
    conn.drop_trigger("signatures_no_update")
    conn.execute("UPDATE signatures SET record_id = 'pump-7:v2' WHERE meaning = 'approved'")
    conn.close()
    with pytest.raises(IntegrityError, match="another record|does not verify"):
        sv.registry.show(p["erin"], ref="pump-7:v2")


def test_blocked_or_draft_versions_cannot_be_proposed(plant):
    sv, p = plant
    register(sv, p["erin"], passed=False)
    with pytest.raises(Conflict):
        _propose(sv, p["erin"])
    with pytest.raises(UsageError, match=r"'\*' is not allowed"):
        sv.approvals.propose(p["erin"], ref="pump-7:v1", password=password_of("erin"),
                             hardware_ids=["*"], reason="x")


def test_rejection_is_final(plant):
    sv, p = plant
    register(sv, p["erin"])
    _propose(sv, p["erin"])
    v = sv.approvals.decide(p["avery"], ref="pump-7:v1", password=password_of("avery"),
                            meaning="rejected", reason="drift on channel 2")
    assert v.state == "rejected"
    with pytest.raises(Conflict):
        sv.approvals.decide(p["avery"], ref="pump-7:v1", password=password_of("avery"),
                            meaning="approved", reason="changed my mind")
    with pytest.raises(UsageError, match="only approved"):
        sv.packages.export_to_drive(p["omar"], ref="pump-7:v1", drive_folder=sv.home / "usb")


def test_package_travels_between_two_workstations_with_lineage(plant, tmp_path):
    sv, p = plant
    register(sv, p["erin"])
    _propose(sv, p["erin"])
    sv.approvals.decide(p["avery"], ref="pump-7:v1", password=password_of("avery"),
                        meaning="approved", reason="reviewed")
    draft_dir = tmp_path / "drafts"
    draft_dir.mkdir()
    stick = tmp_path / "usb"
    stick.mkdir()
    result = sv.packages.export_to_drive(p["omar"], ref="pump-7:v1", drive_folder=stick)
    assert result.path.exists() and result.sha256
    keys_file = tmp_path / "usb" / "trusted-keys.json"
    assert sv.keys.export(p["admin"], path=keys_file) >= 2
    summary = sv.packages.verify(p["omar"], path=result.path, hardware_id="EDGE-01")
    assert summary.signers == ("engineer:erin", "approver:avery")
    with pytest.raises(PackageRefused, match="hardware"):
        sv.packages.verify(p["omar"], path=result.path, hardware_id="EDGE-99")

    other, q = _workspace(tmp_path / "b", {"otto": ["operator"]})
    try:
        with pytest.raises(IntegrityError):
            other.packages.import_from_drive(q["otto"], path=result.path)
        other.keys.import_keys(q["admin"], path=keys_file, reason="keys of workstation A")
        imported = other.packages.import_from_drive(q["otto"], path=result.path)
        assert (imported.ref, imported.state) == ("pump-7:v1", "approved")
        assert imported.lineage["record_hash"]
        assert imported.metrics == {"accuracy": 0.995}
        with sqlite3.connect(other.paths.db) as conn:
            [(text,)] = conn.execute("SELECT record FROM model_versions").fetchall()
        stored = json.loads(text)
        assert json.dumps(imported.to_record(), sort_keys=True) == text
        assert stored["imported"] == {"package_id": imported.imported.package_id,
                                      "source": str(result.path),
                                      "package_sha256": imported.imported.package_sha256}
        assert stored["parity"] == {"passed": True, "blocked_reason": ""}
        assert stored["lineage"]["record_hash"] == sv.registry.show(
            p["erin"], ref="pump-7:v1").record_hash
        report = json.loads(other.registry.artifact(q["otto"], ref="pump-7:v1",
                                                    name="validation_report.json"))
        assert report == {"accuracy": 0.995}
        with pytest.raises((PackageRefused, Conflict)):
            other.packages.import_from_drive(q["otto"], path=result.path)
        b_events = other.audit.show(q["admin"], AuditFilter(action="package.import"))
        assert [e.result for e in reversed(b_events)] == ["refused", "ok", "refused"]
        assert other.audit.verify(q["admin"]).ok
    finally:
        other.close()
    a_events = sv.audit.show(p["admin"], AuditFilter(action="package."))
    assert {e.action for e in a_events} >= {"package.build", "package.export"}
    assert sv.audit.verify(p["admin"]).ok


def test_draft_package_has_only_the_engineer_signature(plant, tmp_path):
    sv, p = plant
    register(sv, p["erin"])
    _propose(sv, p["erin"])
    path = sv.packages.build(p["erin"], ref="pump-7:v1", out_dir=tmp_path)
    assert path.name.endswith("-DRAFT.plantml")
    with pytest.raises(PackageRefused, match="approver"):
        sv.packages.verify(p["erin"], path=path)
