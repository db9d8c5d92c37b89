"""The approver's evidence: robustness table, "not robust" flag, held-out conditions, parity and
the version's audit trail; a "not robust" version is approved only by an explicit, reasoned,
audited acceptance."""

from __future__ import annotations

import pytest

from app.core.errors import UsageError
from app.services.audit import AuditFilter
from tests.conftest import password_of
from tests.services.release_kit import register
from tests.services.vibration_kit import register_not_robust


def _proposed(services, people, version):
    services.approvals.propose(people["engineer"], ref=version.ref,
                               password=password_of("engineer1"), hardware_ids=["EDGE-01"],
                               reason="ready for line 3")


def test_evidence_carries_the_robustness_table_flag_conditions_parity_and_trail(services,
                                                                               people):
    v = register_not_robust(services, people["engineer"])
    _proposed(services, people, v)
    ev = services.approvals.evidence(people["approver"], ref=v.ref)
    assert ev.not_robust and ev.version.ref == "pump-7:v1" and not ev.problems
    rob = ev.validation.robustness
    assert [(c.name, c.passed) for c in rob.checks] == [
        ("as recorded", True), ("gain x0.5", False), ("dead sensor (zeros)", True)]
    assert [c.condition for c in rob.conditions] == ["load=0hp", "load=2hp"]
    assert ev.parity is not None and ev.parity.deployable
    assert [e.action for e in ev.history] == ["model.register", "model.propose"]
    text = "\n".join(ev.lines())
    assert "pump-7:v1 (classifier), state validated  NOT ROBUST" in text
    assert "Robustness: NOT ROBUST: gain x0.5: 61.00% against 99.00% held out" in text
    assert "gain x0.5" in text and "FAILED" in text and "load=2hp" in text
    assert "Input acc: unit g, scale 100 mV/g" in text
    assert "Envelope conditions: load=0hp, load=2hp" in text
    assert "{" not in text  # plain text, no raw JSON
    assert "needs an explicit acceptance" in text


def test_not_robust_is_approved_only_with_an_explicit_reasoned_acceptance(services, people):
    v = register_not_robust(services, people["engineer"])
    _proposed(services, people, v)
    approver, pw = people["approver"], password_of("approver1")
    with pytest.raises(UsageError, match="flagged NOT ROBUST .gain x0.5.*--accept-not-robust"):
        services.approvals.decide(approver, ref=v.ref, password=pw, meaning="approved",
                                  reason="reports reviewed")
    with pytest.raises(UsageError, match="the reason must say why"):
        services.approvals.decide(approver, ref=v.ref, password=pw, meaning="approved",
                                  reason="reports reviewed", accept_not_robust=True)
    refused = services.audit.show(people["auditor"], AuditFilter(action="model.approve",
                                                                  result="refused"))
    assert len(refused) == 2 and "NOT ROBUST" in refused[0].reason
    done = services.approvals.decide(
        approver, ref=v.ref, password=pw, meaning="approved", accept_not_robust=True,
        reason="not robust to gain: line 3 has one sensor type, fixed by the mounting plan")
    assert done.state == "approved"
    [event] = services.audit.show(people["auditor"], AuditFilter(action="model.approve",
                                                                  result="ok"))
    assert event.new["accepted_not_robust"] is True
    assert event.new["robustness_reasons"] == ["gain x0.5: 61.00% against 99.00% held out"]


def test_rejecting_needs_no_acceptance_and_a_robust_version_none(services, people):
    v = register_not_robust(services, people["engineer"])
    _proposed(services, people, v)
    out = services.approvals.decide(people["approver"], ref=v.ref,
                                    password=password_of("approver1"), meaning="rejected",
                                    reason="gain sensitive")
    assert out.state == "rejected"
    plain = register(services, people["engineer"], line="pump-8")  # no robustness measured
    _proposed(services, people, plain)
    ev = services.approvals.evidence(people["approver"], ref=plain.ref)
    assert not ev.not_robust
    assert "Robustness: not measured" in "\n".join(ev.lines())
    done = services.approvals.decide(people["approver"], ref=plain.ref,
                                     password=password_of("approver1"), meaning="approved",
                                     reason="reports reviewed")
    assert done.state == "approved"
