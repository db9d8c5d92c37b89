"""T10 release counters and rollbacks; T12 expiry against a fake clock, and the override."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.core.errors import UsageError
from app.packages import (
    ExpiryOverride,
    PackageRefused,
    TrustStore,
    accept_package,
    verify_package,
)
from tests.packages.kit import Kit, members, rezip


def _accept(kit: Kit, counter: int) -> None:
    path = kit.build(release_counter=counter, folder=f"r{counter}")
    accept_package(kit.trust, verify_package(path, kit.trust, clock=kit.clock))


def test_older_and_equal_counters_refused(kit: Kit):
    _accept(kit, 5)
    for counter in (4, 5):
        path = kit.build(release_counter=counter, folder=f"again{counter}")
        with pytest.raises(PackageRefused, match="not above the accepted 5") as err:
            verify_package(path, kit.trust, clock=kit.clock)
        assert err.value.reason_code == "counter"
    assert kit.trust.counter("bearing") == 5


def test_rollback_package_with_higher_counter_accepted(kit: Kit):
    _accept(kit, 5)
    old_rollback = kit.build(model_version=2, release_counter=3, rollback_of=4, folder="rb3")
    with pytest.raises(PackageRefused, match="rollback"):
        verify_package(old_rollback, kit.trust, clock=kit.clock)
    rollback = kit.build(model_version=2, release_counter=6, rollback_of=4, folder="rb6")
    pkg = verify_package(rollback, kit.trust, clock=kit.clock)
    assert (pkg.model_version, pkg.rollback_of, pkg.release_counter) == (2, 4, 6)


def test_counter_moves_only_on_accept_and_only_forward(kit: Kit, tmp_path):
    path = kit.build(release_counter=7)
    pkg = verify_package(path, kit.trust, clock=kit.clock)
    assert kit.trust.counter("bearing") is None, "verify alone must not move the counter"
    accept_package(kit.trust, pkg)
    assert kit.trust.counter("bearing") == 7
    with pytest.raises(PackageRefused):
        accept_package(kit.trust, pkg)
    kit.trust.save(tmp_path / "trust.json")
    assert TrustStore.load(tmp_path / "trust.json").counters == {"bearing": 7}
    # Other model lines keep their own counter.
    verify_package(kit.build(model_name="pump", release_counter=1, folder="pump"), kit.trust,
                   clock=kit.clock)


def test_counter_does_not_move_when_a_later_check_fails(kit: Kit):
    entries = members(kit.build(release_counter=9))
    entries["model_card.md"] = b"changed"
    with pytest.raises(PackageRefused):
        verify_package(rezip(kit.root / "bad.plantml", entries), kit.trust, clock=kit.clock)
    assert kit.trust.counter("bearing") is None


def test_expired_refused_then_accepted_with_recorded_override(kit: Kit):
    path = kit.build(expires_in=timedelta(days=30))
    assert not verify_package(path, kit.trust, clock=kit.clock).expired
    kit.clock.jump(timedelta(days=31).total_seconds())
    with pytest.raises(PackageRefused, match="expired") as err:
        verify_package(path, kit.trust, clock=kit.clock)
    assert err.value.reason_code == "expired"
    override = ExpiryOverride(who="alex", reason="line down, no newer package on site")
    pkg = verify_package(path, kit.trust, clock=kit.clock, override=override)
    assert pkg.expired and pkg.override == override
    kit.clock.jump(-timedelta(days=2).total_seconds())
    fresh = verify_package(path, kit.trust, clock=kit.clock, override=override)
    assert not fresh.expired and fresh.override is None, "an unused override is not recorded"


def test_override_needs_who_and_reason():
    with pytest.raises(UsageError):
        ExpiryOverride(who="alex", reason=" ")
