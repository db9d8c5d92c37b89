"""Issue 12.1 and 12.2 through the services: a controller replays a recording at twice the
gain, the watch raises a drift alarm and captures the windows behind it by itself (snapshot
with provenance, predictions only proposed), an operator confirms, rejects and relabels
windows (labels and audit rows), a challenger is trained and compared, approved and flashed;
every step is in the audit trail and the chain verifies."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.core.errors import PermissionDenied, UsageError
from app.core.roles import Action, Role
from app.data.synthetic import vibration
from app.services.audit import AuditFilter
from app.services.capture import SOURCE, windows_of
from app.services.controller_runtime import start_controller
from tests.conftest import password_of
from tests.services.test_challenger import RECIPE
from tests.services.vibration_kit import RATE, WINDOW, two_states

HW = "EDGE-01"


@pytest.fixture
def champion(services, people):
    eng = people["engineer"]
    ds = two_states(services, eng)
    v = services.training.train(eng, dataset=ds.dataset_id, line="pump-7", recipe=RECIPE,
                                window=WINDOW, hop=WINDOW).version
    _release(services, people, v.ref)
    return v


def _release(services, people, ref):
    services.approvals.propose(people["engineer"], ref=ref, password=password_of("engineer1"),
                               hardware_ids=[HW], reason="ready")
    services.approvals.decide(people["approver"], ref=ref, password=password_of("approver1"),
                              meaning="approved", reason="ok")


@pytest.fixture
def loud(services, people, tmp_path):
    """A controller replaying a healthy machine at twice the sensor gain."""
    trust = tmp_path / "trust.json"
    services.keys.export(people["admin"], path=trust)
    signal = 2.0 * vibration("healthy", int(20 * RATE), seed=3)
    with start_controller(state_dir=tmp_path / "edge", hardware_id=HW, trust=trust,
                          tcp="127.0.0.1:0", replay=signal[None, :]) as running:
        yield running


def _watch_until_alarm(services, who, target):
    # Drift is scored once a class has 30 windows (about 3 s of replay); the deadline only
    # ends a test whose controller never gets there.
    deadline = time.monotonic() + 120
    while True:
        w = services.controllers.watch(who, target=target)
        if (w.drift is not None and w.drift.level == "alarm") or time.monotonic() > deadline:
            return w
        time.sleep(0.1)


def test_the_loop_closes_from_a_drift_alarm_to_a_flashed_challenger(services, people,
                                                                    champion, loud):
    opr, eng = people["operator"], people["engineer"]
    assert services.controllers.flash(opr, ref=champion.ref, target=loud.target).ok
    w = _watch_until_alarm(services, opr, loud.target)
    assert w.drift is not None and w.drift.level == "alarm", "twice the gain must alarm"
    snap = w.captured
    assert snap is not None, "the alarm captured its windows by itself"
    prov = snap.provenance
    assert prov["source"] == SOURCE and prov["trigger"]["kind"] == "drift alarm"
    assert prov["controller"] == {"hardware_id": HW, "endpoint": loud.target,
                                  "boot_count": prov["controller"]["boot_count"]}
    assert prov["model"] == champion.ref and prov["time_range"][0] < prov["time_range"][1]
    alarm = services.audit.show(people["auditor"], AuditFilter(action="drift.alarm"))[0]
    assert prov["trigger"]["alarm_seq"] == alarm.seq
    refs = windows_of(snap)
    # Every window since the model started, up to the ring's 64: at least the 30 drift needs.
    assert 30 <= len(refs) + len(prov["missed"]) <= 64 and len(refs) >= 16
    assert refs[0].window_id == 1 or len(refs) + len(prov["missed"]) == 64
    # One recording per contiguous run of ids; each window's range is its own samples.
    for k, rec in enumerate(snap.recordings):
        ids = [r.window_id for r in refs if r.recording == k]
        assert ids == list(range(ids[0], ids[0] + len(ids)))
        assert rec.n_samples == len(ids) * WINDOW
    assert snap.labels == (), "a prediction is only a proposed label"
    assert all(r.valid and r.proposed in ("healthy", "bearing_fault") for r in refs)
    _, arrays = services.datasets.load(eng, dataset=snap.dataset_id)
    first = next(arrays)[1]
    assert np.sqrt(np.mean(first ** 2)) > 1.5 * np.sqrt(np.mean(
        vibration("healthy", int(RATE), seed=3) ** 2)), "the loud signal itself"

    # Feedback: confirm one, reject one, relabel the others (the gain changed, the machine
    # did not), each with its note; labels on the window's range, audit rows for all.
    by_rec: dict[int, list] = {}
    for r in refs:
        by_rec.setdefault(r.recording, []).append(r)
    longest = max(by_rec.values(), key=len)
    # The gain shows in the levels only (the features are scale-free): still "healthy".
    rejected = longest[-1]
    confirmed = next(r for r in longest if r.proposed == "healthy")
    fb = services.feedback
    with pytest.raises(UsageError, match="say why you reject it"):
        fb.give(opr, dataset=snap.dataset_id, window=rejected.window_id, verdict="reject")
    c = fb.give(opr, dataset=snap.dataset_id, window=confirmed.window_id, verdict="confirm")
    assert c.label == confirmed.proposed and c.label_id is not None
    rj = fb.give(opr, dataset=snap.dataset_id, window=rejected.window_id, verdict="reject",
                 note="a truck passed by")
    assert rj.label == "" and rj.label_id is None
    others = [r for r in refs if r.window_id not in (confirmed.window_id, rejected.window_id)]
    for r in others:
        fb.give(opr, dataset=snap.dataset_id, window=r.window_id, verdict="relabel",
                label="healthy", note="sensor swapped, gain doubled; the pump is healthy")
    labels = services.datasets.show(eng, dataset=snap.dataset_id).labels
    assert len(labels) == 1 + len(others)
    assert {(lb.recording, lb.t_start, lb.t_end) for lb in labels} == {
        (r.recording, r.t_start, r.t_end) for r in [confirmed, *others]}
    assert all(lb.created_by == opr.username for lb in labels)
    given = fb.given(eng, dataset=snap.dataset_id)
    assert [g.verdict for g in given][:2] == ["confirm", "reject"] and len(given) == len(refs)
    assert given[1].note == "a truck passed by" and given[1].user == opr.username

    # The engineer trains a challenger on it, the approver approves, the operator flashes.
    out = services.challenger.challenge(eng, champion=champion.ref, new_data=snap.dataset_id)
    assert out.comparison.report["new_windows"] > 0
    _release(services, people, out.trained.version.ref)
    flashed = services.controllers.flash(opr, ref=out.trained.version.ref, target=loud.target)
    assert flashed.ok and flashed.status.active.version == 2

    trail = services.audit.show(people["auditor"], AuditFilter(limit=100_000,
                                                               newest_first=False))
    actions = [e.action for e in trail]
    steps = ["controller.deploy", "drift.alarm", "dataset.controller.capture",
             "data.feedback", "model.register", "model.propose", "model.approve",
             "controller.deploy"]
    at = 0
    for step in steps:  # in this order, each after the one before
        at = actions.index(step, at) + 1
    capture_row = next(e for e in trail if e.action == "dataset.controller.capture")
    assert capture_row.new["provenance"]["window_ids"] == [r.window_id for r in refs]
    assert services.audit.verify(people["auditor"]).ok


def test_a_manual_capture_and_the_roles_that_may_capture_and_give_feedback(
        services, people, champion, loud):
    from tests.test_policy_matrix import CAPTURE, EXPECTED

    opr = people["operator"]
    assert services.controllers.flash(opr, ref=champion.ref, target=loud.target).ok
    deadline = time.monotonic() + 120
    while services.controllers.watch(opr, target=loud.target).live.inference_count < 5 and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    snap = services.controllers.capture(opr, target=loud.target, windows=4)
    refs = windows_of(snap)
    assert 1 <= len(refs) <= 4 and snap.provenance["trigger"] == {"kind": "manual"}
    assert snap.sample_rate == RATE and [c.name for c in snap.channels] == ["acc"]
    with pytest.raises(UsageError, match="capture 1 to 4096 windows"):
        services.controllers.capture(opr, target=loud.target, windows=0)
    observed = {}
    for role in Role:
        who = people[role.value]
        for action, call in (
                (Action.CONTROLLER_CAPTURE, lambda w=who: services.controllers.capture(
                    w, target=loud.target, windows=1)),
                (Action.DATA_FEEDBACK, lambda w=who: services.feedback.give(
                    w, dataset=snap.dataset_id, window=refs[0].window_id, verdict="relabel",
                    label="healthy", note="policy test"))):
            try:
                call()
                observed[role, action] = True
            except PermissionDenied:
                observed[role, action] = False
    assert {a for _, a in observed} == CAPTURE
    assert observed == {(r, a): EXPECTED[r, a] for (r, a) in observed}
    refused = services.audit.show(people["auditor"], AuditFilter(result="refused"))
    assert {(e.user, e.action) for e in refused} >= {
        (people["approver"].username, "controller.capture"),
        (people["auditor"].username, "data.feedback")}


def test_feedback_is_refused_where_it_cannot_apply(services, people, champion):
    opr = people["operator"]
    with pytest.raises(UsageError, match="was not captured from a controller"):
        services.feedback.give(opr, dataset=champion.dataset_id, window=1, verdict="relabel",
                               label="healthy", note="x")
    with pytest.raises(UsageError, match="the verdict is one of confirm, reject, relabel"):
        services.feedback.give(opr, dataset=champion.dataset_id, window=1, verdict="maybe")
