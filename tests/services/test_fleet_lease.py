"""Issue 11: a roll-out on a shared registry is run by one workstation at a time. Two
workstations (own workspace, one registry: SQLite file or PostgreSQL) race to resume an
interrupted roll-out and exactly one wins; the other is refused naming the owner and when its
lease ends; once the lease has lapsed (a fake clock, no sleeping) or with an audited
take-over the other goes on, and the first runner stops at its next step. The controllers
are fakes at the ControllerService boundary, shared by both workstations like real devices."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import text

from app.core.clock import FakeClock
from app.core.errors import Conflict, UsageError
from app.core.fleet import DONE, FLASHED
from app.services import open_services
from app.services.audit import AuditFilter
from app.services.fleet_lease import Lease, LeaseLost, shown
from app.store.engine import Database
from app.store.migrate import alembic_config, head_revision
from tests.conftest import FAST, password_of
from tests.services.release_kit import approve_for_edge, register
from tests.services.test_fleet import _Outcome, _Ref, _Status, _Watch
from tests.test_cli import plantml

WAIT = 60  # seconds an event may take before the test fails (never a sleep)


class Devices:
    """Three fake controllers: the model each runs, shared by both workstations."""

    def __init__(self) -> None:
        self.models: dict[str, str] = {}
        self.lock = threading.Lock()


class GatedControllers:
    """One workstation's view of the devices (status, watch, flash as ControllerService
    has them). With a gate, each flash first says it began and waits for the gate: the
    runner is then busy mid-flash while the test acts."""

    def __init__(self, real, devices: Devices, gate: threading.Event | None = None,
                 signal: threading.Event | None = None) -> None:
        self.registry = real.registry
        self.devices = devices
        self.gate = gate
        self.flashing = threading.Event()
        #: Also set when a flash begins (the test waits on "flashing, or the job ended").
        self.signal = signal or threading.Event()

    def status(self, principal, *, target):
        ref = self.devices.models.get(target)
        return None, _Status(_Ref(ref.split(":v")[0], int(ref.split(":v")[1]), ref)
                             if ref else None)

    def watch(self, principal, *, target):
        return _Watch(self.status(principal, target=target)[1])

    def flash(self, principal, *, ref, target, cancel, progress=None):
        if self.gate is not None:
            self.flashing.set()
            self.signal.set()
            assert self.gate.wait(WAIT), "the test never opened the gate"
        with self.devices.lock:
            self.devices.models[target] = ref
        return _Outcome(True, self.status(principal, target=target)[1])


@pytest.fixture
def services(home, backend: str, request: pytest.FixtureRequest, tmp_path):
    """Workstation ws-a on a shared registry (a database on the test server, or one SQLite
    file outside its workspace) with a shared blob folder, so another workstation can join."""
    url = str(request.getfixturevalue("pg_database")) if backend == "postgresql" else \
        f"sqlite:///{(tmp_path / 'registry.db').as_posix()}"
    sv = open_services(home, create=True, db_url=url, workstation="ws-a",
                       blob_folder=tmp_path / "shared-blobs", hash_params=FAST,
                       checkpoint_interval=5)
    try:
        yield sv
    finally:
        sv.close()


@pytest.fixture
def plant(services, people, tmp_path):
    """An approved version, three controllers in group "g", and an interrupted roll-out to
    them (written as running, nobody running it); a second workstation ws-b on the same
    registry, signed in as the same operator."""
    eng, opr = people["engineer"], people["operator"]
    v = register(services, eng, line="pump-7")
    approve_for_edge(services, people, v.ref)
    for k in range(3):
        services.fleet.add(opr, name=f"c{k}", endpoint=f"tcp:10.0.3.{k}:502",
                           hardware_id="EDGE-01", group="g")
    ro = services.fleet.create(opr, ref=v.ref, group="g", batch_size=5, observe_s=0)
    url = services.db.url.render_as_string(hide_password=False)
    b = open_services(tmp_path / "ws-b", create=True, db_url=url, workstation="ws-b",
                      hash_params=FAST, checkpoint_interval=5)
    try:
        opr_b = b.auth.login(username="operator1", password=password_of("operator1"))
        yield {"a": services, "b": b, "opr": opr, "opr_b": opr_b, "ro": ro,
               "devices": Devices(), "aud": people["auditor"]}
    finally:
        b.close()


class Resume(threading.Thread):
    """``fleet.resume`` on its own thread (a workstation's job), keeping what it returned
    or raised."""

    def __init__(self, sv, who, rollout_id: int, start: threading.Barrier | None = None,
                 signal: threading.Event | None = None, **kw) -> None:
        super().__init__(daemon=True)
        self.sv, self.who, self.rollout_id, self.start_line, self.kw = \
            sv, who, rollout_id, start, kw
        self.result = self.error = None
        self.ended = threading.Event()
        #: Also set when the job ends.
        self.signal = signal or threading.Event()

    def run(self) -> None:
        try:
            if self.start_line is not None:
                self.start_line.wait(WAIT)
            self.result = self.sv.fleet.resume(self.who, rollout_id=self.rollout_id, **self.kw)
        except Exception as exc:  # noqa: BLE001 - the test judges what was raised
            self.error = exc
        finally:
            self.ended.set()
            self.signal.set()


def _busy_on(plant, side: str, **kw) -> tuple[Resume, threading.Event]:
    """Workstation ``side`` resumes the roll-out (with ``kw``) and is held mid-flash of the
    canary."""
    sv, who = (plant["a"], plant["opr"]) if side == "a" else (plant["b"], plant["opr_b"])
    gate, signal = threading.Event(), threading.Event()
    fake = GatedControllers(sv.controllers, plant["devices"], gate, signal)
    sv.fleet.controllers = fake
    job = Resume(sv, who, plant["ro"].id, signal=signal, **kw)
    job.start()
    assert signal.wait(WAIT), "neither a flash began nor the resume ended"
    assert fake.flashing.is_set() and job.error is None, job.error
    return job, gate


def test_two_workstations_race_to_resume_and_exactly_one_wins(plant):
    a, b, ro = plant["a"], plant["b"], plant["ro"]
    gate, ended, flashing = threading.Event(), threading.Event(), threading.Event()
    fakes = {"a": GatedControllers(a.controllers, plant["devices"], gate, flashing),
             "b": GatedControllers(b.controllers, plant["devices"], gate, flashing)}
    a.fleet.controllers, b.fleet.controllers = fakes["a"], fakes["b"]
    line = threading.Barrier(2)
    jobs = {"a": Resume(a, plant["opr"], ro.id, line, ended),
            "b": Resume(b, plant["opr_b"], ro.id, line, ended)}
    for job in jobs.values():
        job.start()
    # The winner is held mid-flash until the gate opens: only the one refused can end.
    assert ended.wait(WAIT) and flashing.wait(WAIT)
    [loser] = [side for side, job in jobs.items() if job.ended.is_set()]
    winner = "b" if loser == "a" else "a"
    assert fakes[winner].flashing.is_set() and not fakes[loser].flashing.is_set()
    error = jobs[loser].error
    assert isinstance(error, Conflict), error
    owner = (a if winner == "a" else b).ctx.trail.workstation
    lease = a.fleet.status(plant["opr"], rollout_id=ro.id)
    assert lease.owner == owner and lease.lease_until
    assert str(error) == (f"roll-out {ro.id} is being run by workstation {owner}, whose lease "
                          f"ends at {shown(lease.lease_until)}; resume it there, after that "
                          "time, or take it over (--take-over, with a reason)")
    gate.set()
    jobs[winner].join(WAIT)
    assert jobs[winner].result is not None and jobs[winner].result.state == DONE
    done = a.fleet.status(plant["opr"], rollout_id=ro.id)
    assert all(s.state == FLASHED for s in done.steps) and done.owner is None
    resumes = a.audit.show(plant["aud"], AuditFilter(action="fleet.rollout.resume"))
    assert sorted(e.result for e in resumes) == ["ok", "refused"]
    assert [e.workstation for e in resumes if e.result == "ok"] == [owner]


def test_after_the_lease_lapses_another_workstation_resumes_and_the_first_stops(plant):
    a, b, ro = plant["a"], plant["b"], plant["ro"]
    job, gate = _busy_on(plant, "a")
    b.fleet.controllers = GatedControllers(b.controllers, plant["devices"])
    # ws-b's clock starts when ws-a last renewed its lease.
    until = datetime.fromisoformat(a.fleet.status(plant["opr"], rollout_id=ro.id).lease_until)
    clock = FakeClock(until - timedelta(seconds=a.fleet.lease_s), frozen=True)
    b.fleet.clock = clock
    with pytest.raises(Conflict, match=f"run by workstation {a.ctx.trail.workstation}, "
                       "whose lease ends at "):
        b.fleet.resume(plant["opr_b"], rollout_id=ro.id)
    clock.advance(a.fleet.lease_s - 1)
    with pytest.raises(Conflict, match="whose lease ends at"):
        b.fleet.resume(plant["opr_b"], rollout_id=ro.id)
    # ws-a stopped renewing (it hangs mid-flash): once its lease has lapsed, ws-b goes on.
    clock.advance(2)
    done = b.fleet.resume(plant["opr_b"], rollout_id=ro.id, reason="ws-a hangs")
    assert done.state == DONE and done.owner is None
    # ws-a's flash returns at last: it writes nothing more and stops, saying why.
    gate.set()
    job.join(WAIT)
    assert isinstance(job.error, LeaseLost), (job.result, job.error)
    assert str(job.error) == (f"roll-out {ro.id} was taken over by another workstation while "
                              "this one ran it; this workstation stopped running it")
    after = a.fleet.status(plant["opr"], rollout_id=ro.id)
    assert after.state == DONE and after.owner is None
    assert all(s.state == FLASHED for s in after.steps)
    assert not a.audit.show(plant["aud"], AuditFilter(action="fleet.rollout.takeover"))


def test_a_take_over_is_audited_and_the_old_runner_stops_at_its_next_step(plant):
    a, b, ro = plant["a"], plant["b"], plant["ro"]
    job_a, gate_a = _busy_on(plant, "a")
    with pytest.raises(UsageError, match="say why"):
        b.fleet.resume(plant["opr_b"], rollout_id=ro.id, take_over=True)
    held = a.fleet.status(plant["opr"], rollout_id=ro.id)
    job_b, gate_b = _busy_on(plant, "b", take_over=True, reason="ws-a does not answer")
    # ws-b holds the lease now; ws-a's flash returns and its next record is refused.
    gate_a.set()
    job_a.join(WAIT)
    assert isinstance(job_a.error, LeaseLost), (job_a.result, job_a.error)
    assert str(job_a.error) == (f"roll-out {ro.id} was taken over by workstation ws-b; this "
                                "workstation stopped running it")
    gate_b.set()
    job_b.join(WAIT)
    assert job_b.result is not None and job_b.result.state == DONE, job_b.error
    [event] = a.audit.show(plant["aud"], AuditFilter(action="fleet.rollout.takeover"))
    assert event.result == "ok" and event.workstation == "ws-b"
    assert event.reason == "ws-a does not answer" and event.user == "operator1"
    assert event.old == {"workstation": a.ctx.trail.workstation,
                         "lease_until": held.lease_until}
    assert event.new["workstation"] == "ws-b"
    assert a.audit.verify(plant["aud"]).ok


def test_the_command_line_names_the_owner_and_asks_a_reason_to_take_over(plant, tmp_path):
    a, ro = plant["a"], plant["ro"]
    lease = Lease(ro.id, a.ctx.trail.workstation, a.ctx.clock)
    a.ctx.write(lease.claim)
    until = a.fleet.status(plant["opr"], rollout_id=ro.id).lease_until

    def resume(*args):
        return plantml("fleet", "rollout", "resume", str(ro.id), *args, home=tmp_path / "ws-b",
                       user="operator1", password=password_of("operator1"))

    r = resume()
    assert r.returncode == 7 and "Traceback" not in r.stderr, r.stderr
    assert (f"roll-out {ro.id} is being run by workstation {a.ctx.trail.workstation}, whose "
            f"lease ends at {shown(until)}") in r.stderr
    r = resume("--take-over")
    assert r.returncode == 2 and "say why" in r.stderr, r.stderr
    r = plantml("fleet", "rollout", "status", str(ro.id), home=tmp_path / "ws-b",
                user="auditor1", password=password_of("auditor1"))
    assert f"run by workstation {a.ctx.trail.workstation}, lease until {shown(until)}" in \
        r.stdout, r.stdout + r.stderr


def test_the_lease_columns_come_with_an_upgrade_of_an_older_registry(tmp_path):
    """A registry at 0008 (before the lease) with a roll-out in it is upgraded: the roll-out
    has no owner and can be claimed."""
    home = tmp_path / "old"
    home.mkdir()
    db = Database(home / "plantml.db")
    cfg = alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
        conn.execute(text(
            "INSERT INTO fleet_rollouts (ref, group_name, canary, batch_size, parallel, "
            "observe_s, invalid_share, state, observed_batch, reason, workstation, created_at,"
            " created_by, updated_at) VALUES ('m:v1', 'g', 'c0', 5, 4, 0, 0.2, 'running', -1,"
            " '', 'ws-a', 't', 'op', 't')"))
    db.dispose()
    with open_services(home, hash_params=FAST) as sv:
        with sv.db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() \
                == head_revision()
            row = conn.exec_driver_sql("SELECT lease_owner, lease_token, lease_until FROM "
                                       "fleet_rollouts").one()
        assert tuple(row) == (None, None, None)
        lease = Lease(1, "ws-a", sv.ctx.clock)
        assert sv.ctx.write(lease.claim) is None
        with pytest.raises(Conflict, match="is being run by workstation ws-a"):
            sv.ctx.write(Lease(1, "ws-b", sv.ctx.clock).claim)
