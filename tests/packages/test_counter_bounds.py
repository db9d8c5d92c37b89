"""15.7: release counters (and versions) are bounded by what a controller's u32 register and
a signed 32-bit PLC tag can hold, at build, at verify and in the trust store."""

from __future__ import annotations

import pytest

from app.core.errors import IntegrityError, UsageError
from app.packages import PackageRefused, TrustStore, verify_package
from app.packages.build import zip_bytes
from app.packages.manifest import MAX_COUNTER
from tests.packages.kit import Kit, payload

HUGE = [2**31, 2**32, 2**32 + 5, 2**70]


@pytest.mark.parametrize("field", ["release_counter", "model_version", "rollback_of"])
@pytest.mark.parametrize("value", HUGE)
def test_build_refuses_counters_out_of_range(kit: Kit, field, value):
    with pytest.raises(UsageError, match=field):
        kit.build(**{field: value})
    assert not list(kit.root.rglob("*.plantml"))


def test_the_largest_counter_is_accepted(kit: Kit):
    assert MAX_COUNTER == 2**31 - 1
    path = kit.build(release_counter=MAX_COUNTER, model_version=MAX_COUNTER)
    assert verify_package(path, kit.trust, clock=kit.clock).release_counter == MAX_COUNTER


@pytest.mark.parametrize("field", ["release_counter", "model_version"])
@pytest.mark.parametrize("value", HUGE)
def test_verify_refuses_a_correctly_signed_counter_out_of_range(kit: Kit, field, value):
    """An attacker (or a buggy workstation) holding both keys signs a huge counter."""
    files = payload()
    body = dict(kit.body(files), **{field: value})
    path = kit.root / "huge.plantml"
    path.write_bytes(zip_bytes(body, kit.sign(body), files))
    with pytest.raises(PackageRefused, match=field) as err:
        verify_package(path, kit.trust, clock=kit.clock)
    assert err.value.reason_code == "manifest"
    assert f"at most {MAX_COUNTER}" in str(err.value)


@pytest.mark.parametrize("value", HUGE)
def test_trust_store_refuses_counters_out_of_range(kit: Kit, value):
    doc = kit.trust.to_dict()
    doc["counters"] = {"bearing": value}
    with pytest.raises(IntegrityError, match="bearing"):
        TrustStore.from_dict(doc, "trust.json")
    with pytest.raises(PackageRefused, match="at most"):
        TrustStore().accept_counter("bearing", value)
