"""Deployment through the services: an operator flashes an approved, trained model into the
reference controller on 127.0.0.1, watches it, rolls back; everything audited."""

from __future__ import annotations

import time

import numpy as np
import pytest

from app.core.errors import PermissionDenied, UsageError
from app.data.synthetic import STATES, vibration
from app.packages import PackageRefused
from app.services.audit import AuditFilter
from app.services.command_key import signer
from app.services.controller_runtime import start_controller
from app.services.options import binary_options
from app.services.recipes import make_recipe
from tests.services.release_kit import approve_for_edge


def _trained(services, people, tmp_path, versions=1):
    eng = people["engineer"]
    paths = []
    for k, state in enumerate(STATES):
        path = tmp_path / f"{state}.npz"
        np.savez(path, acc=vibration(state, 40_000, seed=k))
        paths.append(path)
    ds = services.data_in.import_files(eng, paths=paths, name="pump",
                                       binary=binary_options(keys=["acc"],
                                                             sample_rate=12_000.0)).dataset
    for i, state in enumerate(STATES):
        services.datasets.label(eng, dataset=ds.dataset_id, recording=i, label=state)
    refs = []
    for seed in range(versions):
        v = services.training.train(eng, dataset=ds.dataset_id, line="pump-7",
                                    recipe=make_recipe(seed=seed), window=1024, hop=1024).version
        approve_for_edge(services, people, v.ref)
        refs.append(v.ref)
    return refs


@pytest.fixture
def controller(services, people, tmp_path):
    trust = tmp_path / "trust.json"
    services.keys.export(people["admin"], path=trust)
    with start_controller(state_dir=tmp_path / "edge", hardware_id="EDGE-01", trust=trust,
                          tcp="127.0.0.1:0", replay=vibration("healthy", 60_000)[None, :],
                          commit_deadline_s=30) as running:
        yield running


def test_operator_flashes_watches_and_rolls_back(services, people, tmp_path, controller):
    v1, v2 = _trained(services, people, tmp_path, versions=2)
    opr = people["operator"]
    with pytest.raises(PermissionDenied):
        services.controllers.flash(people["engineer"], ref=v1, target=controller.target)
    out = services.controllers.flash(opr, ref=v1, target=controller.target)
    assert out.ok and out.status.active.version == 1
    # Drift is scored once a class has 30 windows in the controller's per-class block (a
    # few seconds of replay); the deadline only stops a test whose controller never gets there.
    deadline = time.monotonic() + 120
    while True:
        w = services.controllers.watch(opr, target=controller.target)
        if w.drift is not None or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert w.model == v1 and w.live.inference_count >= 30
    assert w.label in STATES
    assert w.drift is not None and w.drift.level in ("ok", "warn", "alarm")
    assert sum(n for _, n in w.drift.scored) >= 30, "scored per predicted class"
    assert services.controllers.flash(opr, ref=v2, target=controller.target).ok
    status = services.controllers.rollback(opr, target=controller.target, reason="v2 noisy")
    assert status.active.version == 1
    deploys = [e for e in services.audit.show(people["auditor"],
                                              AuditFilter(action="controller."))
               if e.action in ("controller.deploy", "controller.rollback")]
    assert [(e.action, e.result) for e in reversed(deploys)] == [
        ("controller.deploy", "refused"), ("controller.deploy", "ok"),
        ("controller.deploy", "ok"), ("controller.rollback", "ok")]
    assert deploys[1].new["device"]["active_sha256"] == deploys[1].new["package_sha256"]


def test_wrong_hardware_and_unapproved_versions_never_reach_the_device(
        services, people, tmp_path):
    [v1] = _trained(services, people, tmp_path)
    trust = tmp_path / "trust.json"
    services.keys.export(people["admin"], path=trust)
    with start_controller(state_dir=tmp_path / "other", hardware_id="EDGE-02", trust=trust,
                          tcp="127.0.0.1:0") as other:
        with pytest.raises(PackageRefused, match="hardware"):
            services.controllers.flash(people["operator"], ref=v1, target=other.target)
        _, status = services.controllers.status(people["operator"], target=other.target)
        assert status.active is None
    from tests.services.release_kit import register

    draft = register(services, people["engineer"], line="other-line")
    with pytest.raises(UsageError, match="only approved"):
        services.controllers.flash(people["operator"], ref=draft.ref,
                                   target="tcp:127.0.0.1:1")


def test_t23_controller_actions_match_the_policy(services, people, tmp_path, controller):
    from app.core.roles import Action, Role
    from tests.test_policy_matrix import CONTROLLER, EXPECTED

    [v1] = _trained(services, people, tmp_path)
    observed = {}
    for role in Role:
        who = people[role.value]
        for action, call in (
                (Action.CONTROLLER_WATCH,
                 lambda w=who: services.controllers.status(w, target=controller.target)),
                (Action.CONTROLLER_DEPLOY,
                 lambda w=who: services.controllers.flash(w, ref=v1, target=controller.target)),
                (Action.CONTROLLER_ROLLBACK,
                 lambda w=who: services.controllers.rollback(w, target=controller.target,
                                                             reason="policy test"))):
            try:
                call()
                observed[role, action] = True
            except PermissionDenied:
                observed[role, action] = False
            except Exception:  # noqa: BLE001 - past the role check the device may refuse
                observed[role, action] = True
    assert {a for _, a in observed} == CONTROLLER
    assert observed == {(r, a): EXPECTED[r, a] for (r, a) in observed}


def test_t158_reconcile_follows_the_device_after_a_killed_flash(services, people, tmp_path,
                                                               controller):
    """Issue 15.8: the flashing process dies right after COMMIT, so the audit says the
    deploy failed while the controller runs the new model; the next status audits
    controller.reconcile with the old and new belief, and the current model follows."""
    from app.devices.flash import flash_package
    from app.fieldbus import Endpoint

    v1, v2 = _trained(services, people, tmp_path, versions=2)
    opr = people["operator"]
    first = services.controllers.flash(opr, ref=v1, target=controller.target)
    belief = services.controllers.current_model(opr, target=controller.target)
    assert belief.active_sha256 == first.package_sha256
    # What the killed process did: the package reached the device and was committed ...
    path = services.packages.build(opr, ref=v2, out_dir=tmp_path / "v2")
    second = flash_package(Endpoint.parse(controller.target), path,
                           signer=signer(services.ctx))
    assert second.ok and second.status.active.version == 2
    # ... and all the audit holds is a deploy that failed before the device answered.
    services.ctx.audit_outcome(opr, "operator", "controller.deploy", f"model:{v2}",
                               result="failed", reason="the workstation was killed",
                               new={"target": controller.target, "device": None})
    assert services.controllers.current_model(opr, target=controller.target) == belief
    _, status = services.controllers.status(opr, target=controller.target)
    assert status.active.sha256 == second.package_sha256
    now = services.controllers.current_model(opr, target=controller.target)
    assert now.active_sha256 == second.package_sha256 and "v2" in now.active
    [rec] = services.audit.show(people["auditor"], AuditFilter(action="controller.reconcile"))
    assert rec.object == controller.target
    assert rec.old["active_sha256"] == first.package_sha256
    assert rec.new["active_sha256"] == second.package_sha256
    # Seen again, nothing new to reconcile; scan and watch reconcile the same way.
    services.controllers.status(opr, target=controller.target)
    services.controllers.scan(opr, endpoints=[controller.target])
    assert len(services.audit.show(people["auditor"],
                                   AuditFilter(action="controller.reconcile"))) == 1
    # The device's own event log was audited at that status, each event once ...
    seen = services.audit.show(people["auditor"], AuditFilter(action="controller.device_event"))
    assert [(e.new["seq"], e.result) for e in reversed(seen)] == [
        (1, "activated"), (2, "committed"), (3, "activated"), (4, "committed")]
    # ... and a rollback no workstation audited (signed, but by a process killed before it
    # could audit) is found at the next scan.
    from app.devices.flash import rollback

    rollback(Endpoint.parse(controller.target), signer=signer(services.ctx))
    services.controllers.scan(opr, endpoints=[controller.target])
    seen = services.audit.show(people["auditor"], AuditFilter(action="controller.device_event"))
    assert [(e.new["seq"], e.result) for e in seen[:1]] == [(5, "rolled_back")]
    assert seen[0].new["after"]["version"] == 1 and seen[0].new["before"]["version"] == 2
    assert services.controllers.current_model(opr, target=controller.target).active_sha256 \
        == first.package_sha256


def test_15_4_unproven_commands_are_refused_and_audited_at_the_next_scan(
        services, people, tmp_path, controller):
    """Issue 15.4: a Modbus master without this workstation's proof cannot roll back; the
    device counts the attempt and the next scan audits it (once). The operator's own
    rollback, signed by the service, works."""
    from pymodbus.client import ModbusTcpClient

    v1, v2 = _trained(services, people, tmp_path, versions=2)
    opr = people["operator"]
    assert services.controllers.flash(opr, ref=v1, target=controller.target).ok
    second = services.controllers.flash(opr, ref=v2, target=controller.target)
    port = int(controller.target.rpartition(":")[2])
    plc = ModbusTcpClient("127.0.0.1", port=port, timeout=10, retries=0)
    assert plc.connect()
    try:
        answer = plc.write_register(0, 6, device_id=1)  # ROLLBACK, function 6
        assert answer.isError() and answer.exception_code == 3
    finally:
        plc.close()
    _, status = services.controllers.status(opr, target=controller.target)
    assert status.active.sha256 == second.package_sha256
    [rec] = services.audit.show(people["auditor"],
                                AuditFilter(action="controller.refused_commands"))
    assert rec.object == controller.target and rec.result == "refused"
    assert rec.new["new"] == 1 and rec.new["last"]["code"] == "proof_missing"
    assert rec.new["last"]["function"] == 6 and rec.new["last"]["command"] == 6
    services.controllers.scan(opr, endpoints=[controller.target])  # nothing new: no new row
    assert len(services.audit.show(people["auditor"],
                                   AuditFilter(action="controller.refused_commands"))) == 1
    assert services.controllers.rollback(opr, target=controller.target,
                                         reason="v2 noisy").active.version == 1


def test_the_workstation_refuses_a_protocol_1_controller(services, people, controller):
    from app.devices.flash import ProtocolError

    controller.runtime.protocol_version = 1
    with pytest.raises(ProtocolError, match="protocol 1, which obeys unsigned commands"):
        services.controllers.status(people["operator"], target=controller.target)
    [found] = services.controllers.scan(people["operator"], endpoints=[controller.target])
    assert not found.found and "update its runtime" in found.error


def test_9_1_a_dead_sensor_is_watched_as_invalid_input_not_a_class(services, people,
                                                                   tmp_path):
    [v1] = _trained(services, people, tmp_path)
    trust = tmp_path / "trust.json"
    services.keys.export(people["admin"], path=trust)
    opr = people["operator"]
    with start_controller(state_dir=tmp_path / "dead", hardware_id="EDGE-01", trust=trust,
                          tcp="127.0.0.1:0", replay=np.zeros((1, 60_000))) as dead:
        assert services.controllers.flash(opr, ref=v1, target=dead.target).ok
        deadline = time.monotonic() + 60  # reached only if no window is ever flagged
        while True:
            w = services.controllers.watch(opr, target=dead.target)
            if (w.live.invalid_count >= 2 and w.status.sensor_fault) or \
                    time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert w.live.invalid_count >= 2 and "flat line" in w.invalid_reason
    assert w.label == f"invalid input: {w.invalid_reason}" and w.label not in STATES
    # Flat (bit 2), and far below the training envelope (bit 8) too.
    assert w.live.invalid_reason == w.invalid_reason and w.status.sensor_fault & 2
    assert w.live.stats.count == 0 and w.drift is None  # nothing of it in the drift


def test_11_4_a_version_runs_in_shadow_and_commits_only_after_its_shadow_period(
        services, people, tmp_path, controller):
    from app.services.controller_shadow import ShadowRequirement
    from tests.devices.kit import wait_for

    v1, v2 = _trained(services, people, tmp_path, versions=2)
    opr, target = people["operator"], controller.target
    first = services.controllers.flash(opr, ref=v1, target=target)
    with pytest.raises(PermissionDenied):
        services.controllers.start_shadow(people["engineer"], ref=v2, target=target)
    with pytest.raises(UsageError, match="staged nothing in shadow"):
        services.controllers.commit_shadow(opr, target=target,
                                           requirement=ShadowRequirement(0.0))
    started = services.controllers.start_shadow(opr, ref=v2, target=target)
    assert started.running and started.version == 2
    assert services.controllers.shadow_ref(target) == v2
    shadow = wait_for(lambda: services.controllers.shadow_status(opr, target=target),
                      lambda s: s.compared >= 20, "20 windows compared in shadow")
    assert shadow.agreement is not None and 0.0 <= shadow.agreement <= 1.0
    assert shadow.latency_mean_us > 0
    # The shadow never took over: the controller still runs and publishes version 1.
    _, status = services.controllers.status(opr, target=target)
    assert status.active.sha256 == first.package_sha256 and status.staged.version == 2
    # A roll-out that wants an hour of shadow is refused now; the package stays in shadow.
    with pytest.raises(UsageError, match="stays in shadow.*of the 3600 s required"):
        services.controllers.commit_shadow(
            opr, target=target, requirement=ShadowRequirement(0.0, min_seconds=3600))
    assert services.controllers.shadow_status(opr, target=target).running
    status = services.controllers.commit_shadow(
        opr, target=target, requirement=ShadowRequirement(0.0, min_windows=20))
    assert status.active.version == 2 and status.staged is None
    assert not services.controllers.shadow_status(opr, target=target).running
    assert services.controllers.shadow_ref(target) is None
    assert services.controllers.current_model(opr, target=target).active_sha256 == \
        status.active.sha256
    events = [e for e in services.audit.show(people["auditor"],
                                             AuditFilter(action="controller."))
              if e.action in ("controller.shadow", "controller.deploy")]
    trail = [(e.action, e.result) for e in reversed(events)]
    # flash v1; the engineer refused by the policy; shadow; commit refused; commit
    assert trail == [("controller.deploy", "ok"), ("controller.deploy", "refused"),
                     ("controller.shadow", "ok"), ("controller.deploy", "refused"),
                     ("controller.deploy", "ok")], trail
    committed = events[0].new
    assert committed["via"] == "shadow" and committed["shadow"]["compared"] >= 20
    assert committed["requirement"]["min_windows"] == 20


def test_11_4_a_shadow_stopped_and_dropped_leaves_the_old_model(services, people, tmp_path,
                                                                 controller):
    v1, v2 = _trained(services, people, tmp_path, versions=2)
    opr, target = people["operator"], controller.target
    first = services.controllers.flash(opr, ref=v1, target=target)
    services.controllers.start_shadow(opr, ref=v2, target=target)
    status = services.controllers.stop_shadow(opr, target=target, reason="not now")
    assert status.staged is None and status.active.sha256 == first.package_sha256
    assert not services.controllers.shadow_status(opr, target=target).running
    stops = services.audit.show(people["auditor"], AuditFilter(action="controller.shadow_stop"))
    assert [(e.result, e.reason) for e in stops] == [("ok", "not now")]
