"""T06: clock jumps keep the sequence monotonic, are audited, and decide nothing on their own."""

from __future__ import annotations

import pytest

from app.core.clock import FakeClock
from app.core.errors import AuthenticationError
from app.services import open_services
from tests.conftest import FAST, password_of


@pytest.fixture
def clocked(home):
    clock = FakeClock()
    sv = open_services(home, create=True, hash_params=FAST, clock=clock, checkpoint_interval=5)
    admin = sv.auth.bootstrap_admin(username="admin", password=password_of("admin"))
    sv.users.add(admin, username="aud", password=password_of("aud"), roles=["auditor"])
    yield sv, clock, admin
    sv.close()


@pytest.mark.parametrize("hours", [-3, +5])
def test_t06_jump_is_audited_and_sequence_stays_monotonic(clocked, hours):
    sv, clock, admin = clocked
    sv.settings.set(admin, key="security.idle_lock_minutes", value=11)
    clock.jump(hours * 3600)
    sv.settings.set(admin, key="security.idle_lock_minutes", value=12)
    aud = sv.auth.login(username="aud", password=password_of("aud"))
    events = sorted(sv.audit.show(aud), key=lambda e: e.seq)
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
    jumps = [e for e in events if e.action == "clock.jump"]
    assert len(jumps) == 1
    assert jumps[0].result == "detected"
    after = events[events.index(jumps[0]) + 1]
    assert after.new == 12  # the jump is recorded right before the event that noticed it
    assert sv.audit.verify(aud).ok


def test_t06_clock_set_back_between_runs_is_audited(home):
    clock = FakeClock()
    with open_services(home, create=True, hash_params=FAST, clock=clock) as sv:
        admin = sv.auth.bootstrap_admin(username="admin", password=password_of("admin"))
    back = FakeClock()
    back.jump(-6 * 3600)
    with open_services(home, clock=back) as sv:
        admin = sv.auth.login(username="admin", password=password_of("admin"))
        events = sv.audit.show(admin)
        assert any(e.action == "clock.jump" for e in events)
        assert max(e.seq for e in events) == len(events)


def test_t06_lockout_does_not_expire_when_the_clock_moves_forward(clocked):
    sv, clock, admin = clocked
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            sv.auth.login(username="aud", password="wrong-password")
    clock.jump(72 * 3600)
    with pytest.raises(AuthenticationError):
        sv.auth.login(username="aud", password=password_of("aud"))
