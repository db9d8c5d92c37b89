"""What the trail writes: the workstation when none is configured (the computer's network
name, or a fixed stand-in), the system's own event when the clock jumps, a checkpoint at every
event with an interval of one, and the link each appended event carries."""

from __future__ import annotations

import socket
from datetime import datetime

from app.audit import trail
from app.audit.checkpoints import stored_checkpoints
from app.audit.reading import AuditFilter, query_events
from app.core.clock import FakeClock
from app.services import open_services
from app.services.seal import ACTION as SEAL
from tests.conftest import FAST, password_of


def test_the_default_workstation_is_the_computers_network_name(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "CR-WS-07")
    assert trail.default_workstation() == "CR-WS-07"


def test_a_computer_without_a_network_name_gets_a_fixed_stand_in(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "")
    assert trail.default_workstation() == "unknown-workstation"


def test_a_clock_jump_is_recorded_as_the_systems_event_before_the_one_that_noticed_it(home):
    clock = FakeClock()
    sv = open_services(home, create=True, hash_params=FAST, clock=clock, checkpoint_interval=1)
    try:
        admin = sv.auth.bootstrap_admin(username="admin", password=password_of("admin"))
        clock.jump(-3 * 3600)
        sv.settings.set(admin, key="security.idle_lock_minutes", value=12)
        with sv.ctx.db.reader() as s:
            events = query_events(s, AuditFilter(newest_first=False))
            checkpointed = [c.seq for c in stored_checkpoints(s)]
        [jump] = [e for e in events if e.action == "clock.jump"]
        assert (jump.user, jump.role, jump.object, jump.reason, jump.result) == (
            "system", "", "system-clock", "wall clock moved against the monotonic clock",
            "detected")
        # It records the time the clock should have shown and the time it showed.
        moved = datetime.fromisoformat(jump.old) - datetime.fromisoformat(jump.new)
        assert abs(moved.total_seconds() - 3 * 3600) < 60
        # An interval of one signs every event.
        assert checkpointed == [e.seq for e in events]
    finally:
        sv.close()


def test_an_appended_event_carries_the_hash_it_links_to(services, admin):
    with services.ctx.db.reader() as s:
        [head] = query_events(s, AuditFilter(limit=1))
    event = services.ctx.write(lambda s: services.ctx.trail.append(
        s, user="admin", role="admin", action="settings.change", obj="x", reason="r"))
    assert (event.seq, event.prev_hash) == (head.seq + 1, head.hash)


def test_an_event_without_an_object_or_a_reason_records_them_empty(services, admin):
    event = services.ctx.write(lambda s: services.ctx.trail.append(
        s, user="admin", role="admin", action="settings.change"))
    assert (event.object, event.reason, event.old, event.new, event.result) == (
        "", "", None, None, "ok")


def test_the_seal_after_a_security_change_names_who_made_it(services, admin):
    services.users.add(admin, username="eng7", password=password_of("eng7"),
                       roles=["engineer"])
    with services.ctx.db.reader() as s:
        events = query_events(s, AuditFilter(newest_first=False))
    seal = events[-1]
    last = next(e for e in events if e.seq == seal.seq - 1)
    assert seal.action == SEAL and last.action != SEAL and last.user == "admin"
    assert (seal.user, seal.role) == (last.user, last.role)
    assert seal.reason.endswith(f"changed by {last.action} {last.object}".strip())
