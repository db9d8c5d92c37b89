"""Each rule of the package signature check alone, with its reason code and the message that
names the signature, the user and the key (mutation testing found most messages and several
rules unchecked)."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.core.errors import UsageError
from app.packages import TrustStore, sign_body
from app.packages.errors import PackageRefused
from app.packages.manifest import body_sha256
from app.packages.signatures import MEANING_OF_ROLE, check_signatures
from app.packages.trust import key_id_for
from tests.packages.kit import NOW, Kit, payload


def _setup(tmp_path: Path):
    kit = Kit(root=tmp_path)
    body = kit.body(payload())
    return kit, body, kit.sign(body)


def _refused(body, sigs, trust) -> PackageRefused:
    with pytest.raises(PackageRefused) as err:
        check_signatures(body, sigs, trust)
    return err.value


def test_two_good_signatures_are_returned_in_order(tmp_path):
    kit, body, sigs = _setup(tmp_path)
    assert check_signatures(body, sigs, kit.trust) == sigs
    assert MEANING_OF_ROLE == {"engineer": "released", "approver": "approved"}


@pytest.mark.parametrize("mangle", [
    lambda s: "not a dict",
    lambda s: {k: v for k, v in s.items() if k != "meaning"},
    lambda s: {**s, "extra": "x"},
    lambda s: {**s, "user": 7},
])
def test_a_malformed_signature_is_named_by_index(tmp_path, mangle):
    kit, body, sigs = _setup(tmp_path)
    sigs[1] = mangle(sigs[1])
    err = _refused(body, sigs, kit.trust)
    assert err.reason_code == "signature" and str(err) == "signature 1 is malformed"


def test_a_role_with_the_wrong_meaning_is_not_a_release_signature(tmp_path):
    kit, body, sigs = _setup(tmp_path)
    sigs[0] = {**sigs[0], "meaning": "approved"}
    err = _refused(body, sigs, kit.trust)
    assert err.reason_code == "signature"
    assert str(err) == ("signature 0 (erin): role 'engineer' with meaning 'approved' "
                        "is not a release signature")


def test_an_unknown_key_is_named(tmp_path):
    kit, body, _ = _setup(tmp_path)
    stranger = Ed25519PrivateKey.generate()
    sigs = [sign_body(body, stranger, "engineer", "erin", "released", NOW),
            kit.sign(body)[1]]
    err = _refused(body, sigs, kit.trust)
    assert err.reason_code == "unknown_key"
    assert str(err) == (f"signature 0 (erin) uses key {key_id_for(stranger.public_key())}, "
                        "which is not in the trust store")


def test_a_revoked_key_is_refused_with_the_revocation_time(tmp_path):
    kit, body, sigs = _setup(tmp_path)
    key_id = sigs[1]["key_id"]
    kit.trust.revoke_key(key_id, NOW + timedelta(days=1))
    err = _refused(body, sigs, kit.trust)
    assert err.reason_code == "revoked_key"
    assert str(err) == (f"signature 1 (alex) uses key {key_id}, revoked at "
                        f"{kit.trust.key(key_id).revoked_at}")


def test_a_key_signing_for_another_user_is_refused(tmp_path):
    kit, body, sigs = _setup(tmp_path)
    sigs[0] = sign_body(body, kit.engineer, "engineer", "mallory", "released", NOW)
    err = _refused(body, sigs, kit.trust)
    assert err.reason_code == "signature"
    assert str(err) == (f"signature 0 claims user 'mallory' but key {sigs[0]['key_id']} "
                        "belongs to 'erin'")


def test_a_key_signing_in_a_role_it_does_not_hold_is_refused(tmp_path):
    kit, body, sigs = _setup(tmp_path)
    sigs[0] = sign_body(body, kit.engineer, "approver", "erin", "approved", NOW)
    err = _refused(body, sigs, kit.trust)
    assert err.reason_code == "role"
    assert str(err) == f"key {sigs[0]['key_id']} of 'erin' may not sign as approver"


def test_a_signature_after_retirement_is_refused_but_one_before_is_kept(tmp_path):
    kit, body, sigs = _setup(tmp_path)
    key_id = sigs[0]["key_id"]
    kit.trust.retire_key(key_id, NOW)
    assert check_signatures(body, sigs, kit.trust) == sigs  # signed at the retirement instant
    late = sign_body(body, kit.engineer, "engineer", "erin", "released",
                     NOW + timedelta(seconds=1))
    err = _refused(body, [late, sigs[1]], kit.trust)
    assert err.reason_code == "revoked_key"
    assert str(err) == (f"signature 0 (erin) was made with key {key_id} after it was retired "
                        f"at {kit.trust.key(key_id).retired_at}")


@pytest.mark.parametrize("value", ["ab" * 63, "AB" * 64, "ab" * 64 + "0", "zz" * 64])
def test_a_signature_that_is_not_128_lower_hex_digits_is_refused(tmp_path, value):
    kit, body, sigs = _setup(tmp_path)
    sigs[1] = {**sigs[1], "signature": value}
    err = _refused(body, sigs, kit.trust)
    assert err.reason_code == "signature"
    assert str(err) == (f"signature 1 (alex, key {sigs[1]['key_id']}) is not "
                        "a 64-byte hex signature")


def test_a_signature_over_another_body_does_not_verify(tmp_path):
    kit, body, sigs = _setup(tmp_path)
    other = kit.body(payload(), release_counter=2)
    sigs[1] = sign_body(other, kit.approver, "approver", "alex", "approved", NOW)
    err = _refused(body, sigs, kit.trust)
    assert err.reason_code == "signature"
    assert str(err) == (f"signature 1 (alex, key {sigs[1]['key_id']}) does not verify: "
                        "the manifest or the signature was changed")


def test_each_field_of_the_signature_is_covered(tmp_path):
    kit, body, sigs = _setup(tmp_path)
    moved = {**sigs[0], "signed_at": sigs[1]["signed_at"].replace("12:00", "12:01")}
    assert _refused(body, [moved, sigs[1]], kit.trust).reason_code == "signature"


def test_the_same_key_twice_is_refused(tmp_path):
    kit, body, sigs = _setup(tmp_path)
    err = _refused(body, [sigs[0], sigs[0], sigs[1]], kit.trust)
    assert err.reason_code == "threshold"
    assert str(err) == f"key {sigs[0]['key_id']} signed more than once"


def test_the_same_user_with_two_keys_is_refused(tmp_path):
    kit, body, sigs = _setup(tmp_path)
    second = Ed25519PrivateKey.generate()
    kit.trust.add_key(second.public_key(), "erin", ["engineer", "approver"], NOW)
    err = _refused(body, [sigs[0], sign_body(body, second, "approver", "erin", "approved", NOW)],
                   kit.trust)
    assert err.reason_code == "threshold"
    assert str(err) == "user 'erin' signed more than once"


@pytest.mark.parametrize("keep,missing", [(0, "approver"), (1, "engineer")])
def test_one_signature_alone_misses_the_other_role(tmp_path, keep, missing):
    kit, body, sigs = _setup(tmp_path)
    err = _refused(body, [sigs[keep]], kit.trust)
    assert err.reason_code == "threshold"
    assert str(err) == f"the package has no valid {missing} signature"


def test_a_bad_signing_time_is_named_by_signature(tmp_path):
    kit, body, sigs = _setup(tmp_path)
    sigs[1] = {**sigs[1], "signed_at": "yesterday"}
    err = _refused(body, sigs, kit.trust)
    assert err.reason_code == "manifest"
    assert str(err) == "signature 1 signed_at 'yesterday' is not an ISO 8601 time"


@pytest.mark.parametrize("role,meaning,want", [
    ("engineer", "approved", "a 'engineer' signature on a package must mean 'released', "
                             "not 'approved'"),
    ("auditor", "approved", "a 'auditor' signature on a package must mean 'nothing', "
                            "not 'approved'"),
])
def test_signing_with_the_wrong_meaning_is_refused_before_signing(tmp_path, role, meaning,
                                                                   want):
    kit, body, _ = _setup(tmp_path)
    with pytest.raises(UsageError) as err:
        sign_body(body, kit.engineer, role, "erin", meaning, NOW)
    assert str(err.value) == want


def test_a_damaged_retirement_time_in_the_trust_store_is_named(tmp_path):
    # A trust store edited by hand (or damaged) with a retirement time that is no time.
    kit, body, sigs = _setup(tmp_path)
    doc = kit.trust.to_dict()
    doc["keys"][0]["retired_at"] = "soon"
    trust = TrustStore.from_dict(doc)
    err = _refused(body, sigs, trust)
    assert err.reason_code == "manifest"
    assert str(err) == "retired_at 'soon' is not an ISO 8601 time"


def test_verified_signatures_are_logged_with_the_body_hash(tmp_path, caplog):
    kit, body, sigs = _setup(tmp_path)
    with caplog.at_level(logging.DEBUG, logger="app.packages.signatures"):
        check_signatures(body, sigs, kit.trust)
    assert [r.getMessage() for r in caplog.records if r.name == "app.packages.signatures"] == \
        [f"package {body_sha256(body)[:12]}: 2 signatures verified"]
