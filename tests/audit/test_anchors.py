"""13.13, 13.14 and 15.1: a pinned key is the only key accepted; checkpoints cannot be erased
unnoticed; a trail rewritten and signed again, with the real key or a swapped one, is caught
by the anchors kept outside the workspace (earlier exports, packages, checkpoint files)."""

from __future__ import annotations

import pytest

from app.audit.keys import AuditKey
from app.cli import main as cli_main
from app.services import open_services
from app.services.audit import load_anchors
from tests.audit.tamper import raw, reason_edit, resign, rewrite, swap_key
from tests.conftest import password_of

INTERVAL = 5


@pytest.fixture
def plant(services, people, tmp_path):
    """A trail with settings changes, an earlier export kept off the workstation, and the
    auditor's copy of the public key."""
    for i in range(12):
        services.settings.set(people["admin"], key="security.idle_lock_minutes", value=10 + i,
                              reason=f"change {i}")
    export = tmp_path / "usb" / "export-1"
    services.audit.export(people["auditor"], folder=export)
    for i in range(3):
        services.settings.set(people["admin"], key="security.idle_lock_minutes", value=30 + i,
                              reason=f"later {i}")
    pem = tmp_path / "usb" / "audit-key.pem"
    pem.write_bytes(services.audit.key.public_pem())
    return services, people, export, pem


def _reopen(services):
    return open_services(services.paths.home)


def _auditor(sv):
    return sv.auth.login(username="auditor1", password=password_of("auditor1"))


def test_intact_trail_agrees_with_its_anchors(plant):
    services, people, export, pem = plant
    report = services.audit.verify(people["auditor"], pinned_key=pem.read_bytes(),
                                   anchors=load_anchors([export]))
    assert report.ok, report.summary()
    assert any("anchor(s) kept outside agree" in n for n in report.notes)


def test_13_13_pinned_key_refuses_a_chain_signed_again_by_a_swapped_key(plant, monkeypatch,
                                                                        capsys):
    services, people, export, pem = plant
    conn = raw(services)
    rewrite(conn, reason_edit("change 3", "nothing happened"))
    attacker = swap_key(services.paths.keys)
    resign(conn, attacker, services.ctx.trail.latest_file, INTERVAL)
    conn.close()
    with _reopen(services) as sv:
        aud = _auditor(sv)
        # Without anything kept outside, a consistent forgery under a new key looks intact:
        # this is what the pinned key and the anchors are for.
        assert sv.audit.verify(aud).ok
        report = sv.audit.verify(aud, pinned_key=pem.read_bytes())
        assert not report.ok
        assert "audit key was replaced" in report.problem
        assert attacker.key_id in report.problem
        report = sv.audit.verify(aud, anchors=load_anchors([export]))
        assert not report.ok and "audit key was replaced" in report.problem
    monkeypatch.setenv("PLANTML_HOME", str(services.paths.home))
    monkeypatch.setenv("PLANTML_USER", "auditor1")
    monkeypatch.setenv("PLANTML_PASSWORD", password_of("auditor1"))
    assert cli_main.main(["audit", "verify", "--key", str(pem)]) == 5
    assert "audit key was replaced" in capsys.readouterr().out


def test_15_1_a_trail_signed_again_with_the_real_key_is_caught_by_an_earlier_export(plant):
    services, people, export, _pem = plant
    conn = raw(services)
    rewrite(conn, reason_edit("change 3", "nothing happened"))
    stolen = AuditKey.load_or_create(services.paths.keys)
    resign(conn, stolen, services.ctx.trail.latest_file, INTERVAL)
    conn.close()
    with _reopen(services) as sv:
        aud = _auditor(sv)
        report = sv.audit.verify(aud, anchors=load_anchors([export]))
        assert not report.ok
        assert "rewritten and signed again" in report.problem
        assert str(export) in report.problem


def test_15_1_a_package_anchors_the_trail(services, people, tmp_path):
    from tests.services.release_kit import register

    eng, apr, opr = people["engineer"], people["approver"], people["operator"]
    v = register(services, eng)
    services.approvals.propose(eng, ref=v.ref, password=password_of("engineer1"),
                               hardware_ids=["HW"], reason="ready")
    services.approvals.decide(apr, ref=v.ref, password=password_of("approver1"),
                              meaning="approved", reason="reviewed")
    package = services.packages.build(opr, ref=v.ref, out_dir=tmp_path / "stick")
    assert services.audit.verify(people["auditor"], anchors=load_anchors([package])).ok
    conn = raw(services)
    rewrite(conn, lambda seq, body: body.replace('"roles":["engineer"]',
                                                 '"roles":["auditor"]'))
    resign(conn, AuditKey.load_or_create(services.paths.keys), services.ctx.trail.latest_file,
           INTERVAL)
    conn.close()
    with _reopen(services) as sv:
        report = sv.audit.verify(_auditor(sv), anchors=load_anchors([package]))
        assert not report.ok and str(package) in report.problem


def test_13_14_erased_checkpoints_and_renumbered_chain_are_detected(plant):
    services, _people, _export, _pem = plant
    conn = raw(services)
    # Drop two events, renumber and recompute, and erase every checkpoint and the copy.
    rewrite(conn, lambda seq, body: None if seq in (7, 8) else body)
    conn.execute("DELETE FROM audit_checkpoints")
    conn.close()
    services.ctx.trail.latest_file.unlink()
    with _reopen(services) as sv:
        report = sv.audit.verify(_auditor(sv))
    assert not report.ok, report.summary()
    assert "checkpoints were removed" in report.problem


def test_13_14_a_tail_cut_with_its_checkpoints_is_caught_by_an_earlier_export(plant):
    services, people, export, _pem = plant
    cut_at = int(export.joinpath("manifest.json").read_text(encoding="utf-8").split(
        '"checkpoint_seq": ')[1].split(",")[0]) - 3
    conn = raw(services)
    conn.execute("DELETE FROM audit_events WHERE seq > ?", (cut_at,))
    conn.execute("DELETE FROM audit_checkpoints WHERE seq > ?", (cut_at,))
    conn.close()
    services.ctx.trail.latest_file.unlink()
    # Verified before anything is appended again (a restart would add its own events).
    report = services.audit.verify(people["auditor"], anchors=load_anchors([export]))
    assert not report.ok
    assert "tail was cut" in report.problem and str(export) in report.problem


def test_13_14_an_export_with_its_checkpoints_erased_is_refused(plant, tmp_path):
    import json

    from app.audit.keys import AuditKey as Key
    from app.core.canonical import canonical_bytes
    from app.services.audit import verify_export_folder

    services, _people, export, pem = plant
    # Someone with the key (the forger's best case) removes the checkpoint lines and signs
    # the manifest again: the expected checkpoints are still missing.
    key = Key.load_or_create(services.paths.keys)
    (export / "checkpoints.jsonl").write_text("", encoding="utf-8")
    manifest = json.loads((export / "manifest.json").read_text(encoding="utf-8"))
    import hashlib
    manifest["files"]["checkpoints.jsonl"] = {"sha256": hashlib.sha256(b"").hexdigest(),
                                              "length": 0}
    signed = {k: v for k, v in manifest.items() if k != "signature"}
    manifest["signature"] = key.sign(canonical_bytes(signed))
    (export / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    report = verify_export_folder(export, pem)
    assert not report.ok and "checkpoints were removed" in report.problem


def test_an_anchor_that_is_not_a_checkpoint_is_a_clear_usage_error(tmp_path):
    from app.core.errors import UsageError

    junk = tmp_path / "junk.json"
    junk.write_text("{}", encoding="utf-8")
    with pytest.raises(UsageError, match="--anchor"):
        load_anchors([junk])
    with pytest.raises(UsageError, match="--anchor"):
        load_anchors([tmp_path / "missing.json"])
