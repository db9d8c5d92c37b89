"""T15 key rotation and revocation, and the trust store file itself."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.core.errors import Conflict, IntegrityError, NotFound
from app.packages import PackageRefused, TrustStore, key_id_for, sign_body, verify_package
from tests.packages.kit import NOW, Kit


def test_rotated_and_revoked_key_refused_afterwards(kit: Kit, tmp_path):
    old_path = kit.build(folder="old")
    verify_package(old_path, kit.trust, clock=kit.clock)
    old_id = key_id_for(kit.approver.public_key())
    new_key = Ed25519PrivateKey.generate()
    new = kit.trust.rotate_key("alex", new_key.public_key(), NOW)
    assert new.roles == ("approver",) and not new.revoked
    old = kit.trust.key(old_id)
    assert old is not None and old.revoked and old.replaced_by == new.key_id
    with pytest.raises(PackageRefused, match=old_id) as err:
        verify_package(old_path, kit.trust, clock=kit.clock)
    assert err.value.reason_code == "revoked_key"
    kit.approver = new_key
    verify_package(kit.build(folder="new"), kit.trust, clock=kit.clock)
    # The rotation survives a save and a load, as the record of who replaced what.
    kit.trust.save(tmp_path / "trust.json")
    again = TrustStore.load(tmp_path / "trust.json")
    assert again.key(old_id).replaced_by == new.key_id
    assert again.key(old_id).revoked_at == NOW.isoformat()
    with pytest.raises(PackageRefused):
        verify_package(old_path, again, clock=kit.clock)


def test_revoke_without_rotation(kit: Kit):
    path = kit.build()
    kit.trust.revoke_key(key_id_for(kit.engineer.public_key()), NOW)
    with pytest.raises(PackageRefused) as err:
        verify_package(path, kit.trust, clock=kit.clock)
    assert err.value.reason_code == "revoked_key"
    with pytest.raises(Conflict):
        kit.trust.revoke_key(key_id_for(kit.engineer.public_key()), NOW)
    with pytest.raises(NotFound):
        kit.trust.revoke_key("0" * 16, NOW)
    with pytest.raises(NotFound):
        kit.trust.rotate_key("erin", Ed25519PrivateKey.generate().public_key(), NOW)


def test_store_round_trip_and_format(kit: Kit, tmp_path):
    path = tmp_path / "keys" / "trust.json"
    assert TrustStore.load(path, missing_ok=True).keys == []
    kit.trust.accept_counter("bearing", 3)
    kit.trust.save(path)
    doc = json.loads(path.read_text())
    assert set(doc) == {"keys", "counters"} and doc["counters"] == {"bearing": 3}
    assert set(doc["keys"][0]) == {"key_id", "public_key", "user", "roles", "added_at",
                                   "revoked_at", "replaced_by"}
    assert TrustStore.load(path) == kit.trust
    with pytest.raises(Conflict):
        kit.trust.add_key(kit.engineer.public_key(), "erin", ["engineer"], NOW)


def test_edited_store_is_refused(kit: Kit, tmp_path):
    path = tmp_path / "trust.json"
    kit.trust.save(path)
    doc = json.loads(path.read_text())
    # Pointing Erin's key id at Mallory's key must not make Mallory Erin.
    mallory = Ed25519PrivateKey.generate().public_key()
    doc["keys"][0]["public_key"] = mallory.public_bytes_raw().hex()
    path.write_text(json.dumps(doc))
    with pytest.raises(IntegrityError, match="does not match"):
        TrustStore.load(path)
    path.write_text("{not json")
    with pytest.raises(IntegrityError):
        TrustStore.load(path)


def test_signature_from_key_of_other_user_refused(kit: Kit):
    def sigs(body):
        return [kit.sign(body)[0],
                sign_body(body, kit.approver, "approver", "erin", "approved", NOW)]

    with pytest.raises(PackageRefused, match="belongs to 'alex'") as err:
        verify_package(kit.build(sigs=sigs), kit.trust, clock=kit.clock)
    assert err.value.reason_code == "signature"
