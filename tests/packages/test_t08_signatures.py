"""T08: bad signatures and a short threshold are refused before any payload byte is read."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.core.errors import IntegrityError
from app.packages import PackageRefused, key_id_for, sign_body, verify_package, zipsafe
from tests.packages.kit import NOW, Kit, members, rezip

Sigs = Callable[[Kit, dict[str, Any]], list[dict[str, str]]]


def _flip(hex_sig: str) -> str:
    return ("0" if hex_sig[10] != "0" else "1").join((hex_sig[:10], hex_sig[11:]))


def _unknown(kit: Kit, body):
    stranger = Ed25519PrivateKey.generate()
    return [kit.sign(body)[0], sign_body(body, stranger, "approver", "alex", "approved", NOW)]


def _flipped(kit: Kit, body):
    sigs = kit.sign(body)
    sigs[1]["signature"] = _flip(sigs[1]["signature"])
    return sigs


def _truncated(kit: Kit, body):
    sigs = kit.sign(body)
    sigs[1]["signature"] = sigs[1]["signature"][:-2]
    return sigs


def _same_key_twice(kit: Kit, body):
    # Erin's one key is trusted for both roles, yet it may count only once.
    kit.trust.keys.clear()
    kit.trust.add_key(kit.engineer.public_key(), "erin", ["engineer", "approver"], NOW)
    return [sign_body(body, kit.engineer, "engineer", "erin", "released", NOW),
            sign_body(body, kit.engineer, "approver", "erin", "approved", NOW)]


def _duplicate_entry(kit: Kit, body):
    sigs = kit.sign(body)
    return [*sigs, dict(sigs[1])]


def _same_user_two_keys(kit: Kit, body):
    second = Ed25519PrivateKey.generate()
    kit.trust.add_key(second.public_key(), "erin", ["approver"], NOW)
    return [kit.sign(body)[0], sign_body(body, second, "approver", "erin", "approved", NOW)]


def _no_approver(kit: Kit, body):
    return kit.sign(body)[:1]


def _wrong_role(kit: Kit, body):
    other = Ed25519PrivateKey.generate()
    kit.trust.add_key(other.public_key(), "olga", ["engineer"], NOW)
    return [kit.sign(body)[0], sign_body(body, other, "approver", "olga", "approved", NOW)]


def _user_relabelled(kit: Kit, body):
    sigs = kit.sign(body)
    sigs[1]["user"] = "mallory"
    return sigs


def _other_body(kit: Kit, body):
    return kit.sign({**body, "hardware_ids": ["ctrl-other"]})


CASES: list[tuple[str, Sigs, str]] = [
    ("unknown key", _unknown, "unknown_key"),
    ("flipped signature", _flipped, "signature"),
    ("truncated signature", _truncated, "signature"),
    ("same key twice", _same_key_twice, "threshold"),
    ("same signature twice", _duplicate_entry, "threshold"),
    ("same user, two keys", _same_user_two_keys, "threshold"),
    ("missing approver", _no_approver, "threshold"),
    ("key not trusted for the role", _wrong_role, "role"),
    ("signer name changed", _user_relabelled, "signature"),
    ("signed another body", _other_body, "signature"),
]


@pytest.mark.parametrize(("what", "make_sigs", "reason"), CASES, ids=[c[0] for c in CASES])
def test_refused_before_payload_is_read(kit: Kit, monkeypatch, what, make_sigs, reason):
    good = kit.build(sigs=lambda body: make_sigs(kit, body))
    # A corrupt model too: had the payload been read, the refusal would say "hash".
    entries = members(good)
    entries["model.onnx"] = b"not the signed model"
    path = rezip(kit.root / "bad.plantml", entries)

    def no_payload(*args, **kwargs):
        raise AssertionError("a payload member was read before the signatures were checked")

    monkeypatch.setattr(zipsafe, "payload_chunks", no_payload)
    with pytest.raises(PackageRefused) as err:
        verify_package(path, kit.trust, clock=kit.clock)
    assert err.value.reason_code == reason, str(err.value)
    assert isinstance(err.value, IntegrityError)


def test_unknown_key_message_names_the_key(kit: Kit):
    stranger = Ed25519PrivateKey.generate()
    path = kit.build(sigs=lambda body: [
        kit.sign(body)[0], sign_body(body, stranger, "approver", "alex", "approved", NOW)])
    with pytest.raises(PackageRefused, match=key_id_for(stranger.public_key())):
        verify_package(path, kit.trust, clock=kit.clock)
