"""Fleet (issue 11.3) through the services: the inventory, roll-outs to reference controllers
on 127.0.0.1 (canary, batches, one injected failure halts and leaves the untouched ones on
their old model), resume after a restart (a new Services on the same workspace), the
observation on a fake clock, and the bus rules (RTU one at a time per port, TCP in
parallel) with fakes at the ControllerService boundary."""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass

import numpy as np
import pytest

from app.core.clock import FakeClock
from app.core.errors import Conflict, PermissionDenied, UsageError
from app.core.fleet import (
    DONE,
    FAILED,
    FLASHED,
    FLASHING,
    HALTED,
    PENDING,
    SKIPPED,
    RolloutStep,
)
from app.core.roles import Action, Role
from app.services import open_services
from app.services.audit import AuditFilter
from app.services.controller_runtime import start_controller
from app.services.controllers import endpoint
from app.services.fleet_rollout import chains
from app.store.schema import RolloutStepRow
from tests.conftest import password_of
from tests.services.release_kit import approve_for_edge, register
from tests.services.test_controllers import _trained
from tests.test_policy_matrix import EXPECTED

N = 6


@pytest.fixture
def fleet(services, people, tmp_path):
    """N reference controllers on 127.0.0.1 (no sensor: nothing here needs predictions)
    in the inventory as group "press-line", and two approved versions of pump-7."""
    trust = tmp_path / "trust.json"
    services.keys.export(people["admin"], path=trust)
    with ExitStack() as stack:
        running = [stack.enter_context(start_controller(
            state_dir=tmp_path / f"edge{i}", hardware_id="EDGE-01", trust=trust,
            tcp="127.0.0.1:0", commit_deadline_s=30)) for i in range(N)]
        for i, ctl in enumerate(running):
            services.fleet.add(people["operator"], name=f"press-{i}", endpoint=ctl.target,
                               hardware_id="EDGE-01", line="pump-7", location=f"hall {i // 3}",
                               group="press-line")
        refs = _trained(services, people, tmp_path, versions=2)
        yield running, refs


def _model_at(services, who, target):
    _, status = services.controllers.status(who, target=target)
    return f"{status.active.name}:v{status.active.version}" if status.active else None


def _deploys(services, auditor, target):
    return [e for e in services.audit.show(auditor, AuditFilter(action="controller.deploy",
                                                                text=target, limit=10_000))
            if e.new and e.new.get("target") == target]


def test_inventory_is_audited_and_checked(services, people):
    opr = people["operator"]
    c = services.fleet.add(opr, name="fan-1", endpoint="tcp:10.0.0.5:502",
                           hardware_id="EDGE-01", line="fan", location="roof", group="fans")
    assert c.kind == "tcp" and endpoint(c.endpoint).bus == "tcp:10.0.0.5:502"
    with pytest.raises(Conflict, match="already has a controller named"):
        services.fleet.add(opr, name="fan-1", endpoint="tcp:10.0.0.6:502", hardware_id="X")
    with pytest.raises(Conflict, match="already in the inventory as 'fan-1'"):
        services.fleet.add(opr, name="fan-2", endpoint="tcp:10.0.0.5:502", hardware_id="X")
    with pytest.raises(UsageError, match="not tcp:HOST:PORT"):
        services.fleet.add(opr, name="fan-2", endpoint="10.0.0.5", hardware_id="X")
    with pytest.raises(UsageError, match="hardware id is missing"):
        services.fleet.add(opr, name="fan-2", endpoint="tcp:10.0.0.7:502", hardware_id=" ")
    rtu = services.fleet.add(opr, name="fan-2", endpoint="rtu:/dev/ttyUSB0:19200",
                             hardware_id="EDGE-01", group="fans")
    assert endpoint(rtu.endpoint).bus == "rtu:/dev/ttyUSB0"
    moved = services.fleet.update(opr, name="fan-2", location="basement", reason="moved")
    assert moved.location == "basement"
    assert [x.name for x in services.fleet.list(people["auditor"], group="fans")] == \
        ["fan-1", "fan-2"]
    with pytest.raises(UsageError, match="say why"):
        services.fleet.remove(opr, name="fan-1", reason="")
    services.fleet.remove(opr, name="fan-1", reason="replaced")
    assert [x.name for x in services.fleet.list(opr)] == ["fan-2"]
    events = services.audit.show(people["auditor"], AuditFilter(action="fleet."))
    assert [(e.action, e.object) for e in reversed(events)] == [
        ("fleet.add", "controller:fan-1"), ("fleet.add", "controller:fan-2"),
        ("fleet.update", "controller:fan-2"), ("fleet.remove", "controller:fan-1")]
    assert events[1].old["location"] == "" and events[1].new["location"] == "basement"
    assert events[0].old["endpoint"] == "tcp:10.0.0.5:502" and events[0].reason == "replaced"


def test_units_of_one_port_are_controllers_of_one_bus(services, people):
    opr = people["operator"]
    first = services.fleet.add(opr, name="p-1", endpoint="rtu:/dev/ttyUSB0:19200",
                               hardware_id="EDGE-01", group="pumps")
    # One spelling per unit: the default unit written out is the plain target.
    second = services.fleet.add(opr, name="p-2", endpoint="rtu:/dev/ttyUSB0:19200#unit=02",
                                hardware_id="EDGE-01", group="pumps")
    assert second.endpoint == "rtu:/dev/ttyUSB0:19200#unit=2"
    gateway = services.fleet.add(opr, name="p-3", endpoint="tcp:10.0.0.9:502#unit=7",
                                 hardware_id="EDGE-01", group="pumps")
    assert gateway.endpoint == "tcp:10.0.0.9:502#unit=7"
    with pytest.raises(Conflict, match="already in the inventory as 'p-1'"):
        services.fleet.add(opr, name="p-4", endpoint="rtu:/dev/ttyUSB0:19200#unit=1",
                           hardware_id="EDGE-01")
    with pytest.raises(UsageError, match=r"'rtu:/dev/ttyUSB0:19200#unit=248': unit id 248 "
                       r"is not 1 to 247"):
        services.fleet.add(opr, name="p-4", endpoint="rtu:/dev/ttyUSB0:19200#unit=248",
                           hardware_id="EDGE-01")
    assert endpoint(first.endpoint).bus == endpoint(second.endpoint).bus == "rtu:/dev/ttyUSB0"
    # The roll-out's chains: the two units of the port one after another, in one chain.
    steps = [RolloutStep(position=k, batch=1, controller=c.name, endpoint=c.endpoint,
                         state=PENDING) for k, c in enumerate(
                             [first, gateway, second,
                              services.fleet.add(opr, name="p-5", endpoint="rtu:COM3:9600#unit=2",
                                                 hardware_id="EDGE-01")])]
    assert [[s.controller for s in chain] for chain in chains(steps)] == [
        ["p-1", "p-2"], ["p-3"], ["p-5"]]


def test_t23_fleet_edit_matches_the_policy(services, people):
    for k, role in enumerate(Role):
        who = people[role.value]
        try:
            services.fleet.add(who, name=f"c{k}", endpoint=f"tcp:10.0.1.{k}:502",
                               hardware_id="EDGE-01")
            allowed = True
        except PermissionDenied:
            allowed = False
        assert allowed == EXPECTED[role, Action.FLEET_EDIT], role
    refused = services.audit.show(people["auditor"], AuditFilter(action="fleet.edit",
                                                                 result="refused"))
    assert len(refused) == sum(not EXPECTED[r, Action.FLEET_EDIT] for r in Role)


def test_rollout_halts_on_one_failure_and_resumes_after_a_restart(
        services, people, fleet, home, tmp_path):
    running, (v1, v2) = fleet
    opr, aud = people["operator"], people["auditor"]
    first = services.fleet.start(opr, ref=v1, group="press-line", batch_size=2, parallel=3,
                                 observe_s=0)
    assert first.state == DONE and sorted(first.changed) == [f"press-{i}" for i in range(N)]
    assert [s.batch for s in first.steps] == [0, 1, 1, 2, 2, 3]
    # The fourth controller (batch 2) drops off the network: every request is reset.
    lost = running[3]
    lost.server.faults.down_until = time.monotonic() + 3600
    ro = services.fleet.start(opr, ref=v2, group="press-line", batch_size=2, parallel=3,
                              observe_s=0)
    assert ro.state == HALTED and "press-3" in ro.reason
    by = {s.controller: s for s in ro.steps}
    assert by["press-3"].state == FAILED and not by["press-3"].changed
    assert by["press-5"].state == PENDING, "the batch after the failure is never started"
    assert {"press-0", "press-1", "press-2"} <= set(ro.changed)
    lost.server.faults.clear()
    # The devices agree: what the roll-out changed runs v2, everything else still runs v1.
    for i, ctl in enumerate(running):
        expect = v2 if f"press-{i}" in ro.changed else v1
        assert _model_at(services, opr, ctl.target) == expect, f"press-{i}"
    assert ro.untouched == [s.controller for s in ro.steps if s.state == PENDING]
    halt = services.audit.show(aud, AuditFilter(action="fleet.rollout.halt"))[0]
    assert halt.result == "halted" and halt.new["changed"] == ro.changed
    assert "press-5" in halt.new["untouched"] and halt.new["failed"] == ["press-3"]
    # The workstation restarts: a new Services on the same workspace resumes.
    services.close()
    again = open_services(home)
    try:
        opr2 = again.auth.login(username="operator1", password=password_of("operator1"))
        assert again.fleet.status(opr2, rollout_id=ro.id).state == HALTED
        done = again.fleet.resume(opr2, rollout_id=ro.id, reason="press-3 back on the network")
        assert done.state == DONE and done.reason == ""
        for ctl in running:
            assert _model_at(again, opr2, ctl.target) == v2
        aud2 = again.auth.login(username="auditor1", password=password_of("auditor1"))
        for ctl in running:  # v1 once, v2 once: nothing flashed twice
            assert [e.object for e in reversed(_deploys(again, aud2, ctl.target))
                    if e.result == "ok"] == [f"model:{v1}", f"model:{v2}"]
        entry = again.fleet.show(opr2, name="press-3")
        assert entry.current.active.startswith("pump-7 v2")
        assert [d.model for d in entry.history if d.action == "controller.deploy"
                and d.result == "ok"] == [v2, v1]
        steps = [e for e in again.audit.show(aud2, AuditFilter(action="fleet.rollout.step"))
                 if e.object == f"rollout:{ro.id}"]
        assert {e.result for e in steps} >= {"started", "ok", "failed"}
        assert again.audit.verify(aud2).ok
    finally:
        again.close()


def test_a_step_interrupted_mid_flash_is_read_from_the_device(services, people, fleet, home):
    """The workstation died during two flashes: press-0 had committed v2, press-1 had not
    begun; the resume reads both, flashes press-1 only, and never press-0 again."""
    running, (v1, v2) = fleet
    opr = people["operator"]
    ro = services.fleet.create(opr, ref=v2, group="press-line", batch_size=5, observe_s=0)
    assert services.controllers.flash(opr, ref=v2, target=running[0].target).ok

    def interrupted(s):
        for pos in (0, 1):
            row = s.query(RolloutStepRow).filter_by(rollout_id=ro.id, position=pos).one()
            row.state = FLASHING
    services.ctx.write(interrupted)
    services.close()
    again = open_services(home)
    try:
        opr2 = again.auth.login(username="operator1", password=password_of("operator1"))
        done = again.fleet.resume(opr2, rollout_id=ro.id)
        assert done.state == DONE
        assert all(s.state == FLASHED for s in done.steps)
        aud = again.auth.login(username="auditor1", password=password_of("auditor1"))
        assert len([e for e in _deploys(again, aud, running[0].target)
                    if e.result == "ok"]) == 1, "press-0 was not flashed again"
        assert len([e for e in _deploys(again, aud, running[1].target)
                    if e.result == "ok"]) == 1
        rec = [e for e in again.audit.show(aud, AuditFilter(action="fleet.rollout.step"))
               if e.result == "reconciled"]
        assert sorted(e.new["controller"] for e in rec) == ["press-0", "press-1"]
        assert any("not flashed again" in e.reason for e in rec)
    finally:
        again.close()


def test_canary_is_watched_on_a_fake_clock_and_a_drift_alarm_halts(services, people, fleet):
    running, (v1, v2) = fleet
    opr = people["operator"]
    clock = FakeClock(frozen=True)
    t0 = clock.monotonic()
    services.fleet.clock, services.fleet.sleep, services.fleet.poll_s = \
        clock, clock.advance, 10.0
    ro = services.fleet.start(opr, ref=v1, group="press-line", canary="press-4",
                              batch_size=10, observe_s=30)
    assert ro.state == DONE and [s.controller for s in ro.steps][0] == "press-4"
    assert clock.monotonic() - t0 >= 60, "the canary and the batch were each watched 30 s"
    observed = services.audit.show(people["auditor"], AuditFilter(action="fleet.rollout.observe"))
    assert [(e.new["batch"], e.new["seconds"]) for e in reversed(observed)] == [(0, 30), (1, 30)]
    # v2's canary raises a drift alarm while it is watched: the others keep v1.
    real_watch = services.controllers.watch

    @dataclass(frozen=True)
    class Alarm:
        level: str = "alarm"

    def watch(principal, *, target):
        w = real_watch(principal, target=target)
        return type(w)(**{**w.__dict__, "drift": Alarm()}) if target == running[0].target \
            else w
    services.controllers.watch = watch
    ro2 = services.fleet.start(opr, ref=v2, group="press-line", batch_size=10, observe_s=30)
    assert ro2.state == HALTED and "drift alarm" in ro2.reason
    assert ro2.changed == ["press-0"] and len(ro2.untouched) == N - 1
    for ctl in running[1:]:
        assert _model_at(services, opr, ctl.target) == v1


def test_an_invalid_input_surge_on_the_canary_halts(services, people, tmp_path):
    """The canary's sensor is dead (a flat line): more than the allowed share of its windows
    are invalid input while it is watched, so the roll-out halts and the rest keep their
    model. The wait ends when the canary has run enough windows, not at a time."""
    opr = people["operator"]
    [v1] = _trained(services, people, tmp_path)
    trust = tmp_path / "trust.json"
    services.keys.export(people["admin"], path=trust)
    with ExitStack() as stack:
        dead = stack.enter_context(start_controller(
            state_dir=tmp_path / "dead", hardware_id="EDGE-01", trust=trust,
            tcp="127.0.0.1:0", replay=np.zeros((1, 60_000)), commit_deadline_s=30))
        other = stack.enter_context(start_controller(
            state_dir=tmp_path / "other", hardware_id="EDGE-01", trust=trust,
            tcp="127.0.0.1:0", commit_deadline_s=30))
        for name, ctl in (("a-dead", dead), ("b-ok", other)):
            services.fleet.add(opr, name=name, endpoint=ctl.target, hardware_id="EDGE-01",
                               group="g")
        services.fleet.poll_s = 0.2
        ro = services.fleet.start(opr, ref=v1, group="g", observe_s=600, invalid_share=0.5)
        assert ro.state == HALTED and "invalid input" in ro.reason, ro.reason
        assert "flat" in ro.reason
        assert ro.changed == ["a-dead"] and ro.untouched == ["b-ok"]
        assert _model_at(services, opr, other.target) is None


# -- bus rules, with fakes at the ControllerService boundary -----------------------------
@dataclass(frozen=True)
class _Ref:
    name: str
    version: int
    sha256: str


@dataclass(frozen=True)
class _Status:
    active: _Ref | None

    state = type("S", (), {"name": "ACTIVE"})()
    reason = ""

    def summary(self):
        return str(self.active)


@dataclass(frozen=True)
class _Outcome:
    ok: bool
    status: _Status


@dataclass(frozen=True)
class _Live:
    inference_count: int = 0
    invalid_count: int = 0


@dataclass(frozen=True)
class _Watch:
    status: _Status
    drift: None = None
    live: _Live = _Live()
    invalid_reason: str = ""


class FakeControllers:
    """status/flash as ControllerService has them, over a dict of device models; records
    how many flashes run at once per bus. The first flash of each target in ``gated``
    waits on one barrier until all of them are flashing: they must run side by side."""

    def __init__(self, real, gated):
        self.registry = real.registry
        self.models: dict[str, str] = {}
        self.active: dict[str, int] = {}
        self.worst: dict[str, int] = {}
        self.order: list[str] = []
        self.lock = threading.Lock()
        self.gated = set(gated)
        self.barrier = threading.Barrier(len(self.gated), timeout=60)

    @staticmethod
    def bus(target):
        return target.partition("#")[0].rpartition(":")[0] if target.startswith("rtu:") \
            else target

    def status(self, principal, *, target):
        ref = self.models.get(target)
        return None, _Status(_Ref(ref.split(":v")[0], int(ref.split(":v")[1]), ref)
                             if ref else None)

    def watch(self, principal, *, target):
        return _Watch(self.status(principal, target=target)[1])

    def flash(self, principal, *, ref, target, cancel, progress=None):
        bus = self.bus(target)
        with self.lock:
            self.active[bus] = self.active.get(bus, 0) + 1
            self.worst[bus] = max(self.worst.get(bus, 0), self.active[bus])
        if target in self.gated:
            self.barrier.wait()  # BrokenBarrierError (the test fails) if not side by side
        time.sleep(0.01)  # room for an overlap on one bus to show if the rule were broken
        with self.lock:
            self.active[bus] -= 1
            self.order.append(target)
            self.models[target] = ref
        return _Outcome(True, self.status(principal, target=target)[1])


def test_rtu_one_at_a_time_per_port_tcp_side_by_side(services, people):
    """Fake transport at the service boundary: two ports of three controllers each (units
    1 to 3 of one port, told apart by their unit ids) and three TCP controllers.
    tests/services/test_rtu_units.py rolls out over a real multi-drop bus."""
    eng, opr = people["engineer"], people["operator"]
    v = register(services, eng, line="pump-7")
    approve_for_edge(services, people, v.ref)
    rtu = []
    for bus in (0, 1):
        for unit in range(3):
            ep = f"rtu:/dev/ttyS{bus}:19200" + (f"#unit={unit + 1}" if unit else "")
            services.fleet.add(opr, name=f"r{bus}{unit}", endpoint=ep, hardware_id="EDGE-01",
                               group="g")
            rtu.append(ep)
    for k in range(3):
        services.fleet.add(opr, name=f"t{k}", endpoint=f"tcp:10.0.2.{k}:502",
                           hardware_id="EDGE-01", group="g")
    # Batch 1 is four chains: each port's three one after another, t1 and t2 alone.
    fake = FakeControllers(services.controllers, gated=[
        "rtu:/dev/ttyS0:19200", "rtu:/dev/ttyS1:19200", "tcp:10.0.2.1:502",
        "tcp:10.0.2.2:502"])
    services.fleet.controllers = fake
    ro = services.fleet.start(opr, ref=v.ref, group="g", canary="t0", batch_size=8,
                              parallel=5, observe_s=0)
    assert ro.state == DONE and all(s.state == FLASHED for s in ro.steps)
    assert [s.batch for s in ro.steps] == [0] + [1] * 8
    assert fake.order[0] == "tcp:10.0.2.0:502", "the canary first, alone"
    assert fake.worst["rtu:/dev/ttyS0"] == 1 and fake.worst["rtu:/dev/ttyS1"] == 1
    for port in ("ttyS0", "ttyS1"):
        assert [t for t in fake.order if port in t] == [t for t in rtu if port in t]


def test_rollout_refusals(services, people, fleet):
    running, (v1, _) = fleet
    opr = people["operator"]
    with pytest.raises(PermissionDenied):
        services.fleet.start(people["engineer"], ref=v1, group="press-line")
    with pytest.raises(UsageError, match="no controllers"):
        services.fleet.start(opr, ref=v1, group="nowhere")
    with pytest.raises(UsageError, match="canary 'x' is not in group"):
        services.fleet.start(opr, ref=v1, group="press-line", canary="x")
    with pytest.raises(UsageError, match="at least one"):
        services.fleet.start(opr, ref=v1, group="press-line", batch_size=0)
    services.fleet.add(opr, name="odd", endpoint="tcp:10.9.9.9:502", hardware_id="EDGE-99",
                       group="press-line")
    with pytest.raises(UsageError, match="odd in group 'press-line' have another hardware"):
        services.fleet.create(opr, ref=v1, group="press-line")
    services.fleet.remove(opr, name="odd", reason="typo")
    ro = services.fleet.create(opr, ref=v1, group="press-line", observe_s=0)
    with pytest.raises(Conflict, match=f"in roll-out {ro.id}"):
        services.fleet.create(opr, ref=v1, group="press-line")
    with pytest.raises(Conflict, match=f"part of roll-out {ro.id}"):
        services.fleet.remove(opr, name="press-0", reason="x")
    assert services.fleet.run(opr, rollout_id=ro.id).state == DONE
    with pytest.raises(UsageError, match="nothing to resume"):
        services.fleet.resume(opr, rollout_id=ro.id)
    # Run again: every controller already runs v1, so each step is skipped, none flashed.
    again = services.fleet.start(opr, ref=v1, group="press-line", observe_s=0)
    assert again.state == DONE and {s.state for s in again.steps} == {SKIPPED}
    assert again.changed == []

