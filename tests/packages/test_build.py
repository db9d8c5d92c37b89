"""Building, signing, verifying and unpacking a good package; manifest rules at build time."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.keys import key_id_of
from app.core.canonical import canonical_bytes
from app.core.errors import Conflict, UsageError
from app.packages import (
    SCHEMA,
    body_sha256,
    build_package,
    key_id_for,
    sign_body,
    unpack_to_staging,
    verify_package,
)
from app.packages.signatures import signed_message
from tests.packages.kit import HW, NOW, Kit, payload


def test_good_package_verifies_and_unpacks(kit: Kit):
    path = kit.build()
    assert path.name == "bearing-v1-r1.plantml"
    pkg = verify_package(path, kit.trust, clock=kit.clock, hardware_id=HW)
    assert (pkg.model_name, pkg.model_version, pkg.release_counter) == ("bearing", 1, 1)
    assert pkg.body["schema"] == SCHEMA and not pkg.expired and pkg.override is None
    assert {s["role"] for s in pkg.signatures} == {"engineer", "approver"}
    staged = unpack_to_staging(pkg, kit.root / "staging")
    files = payload()
    for name, data in files.items():
        assert staged[name].read_bytes() == data
    assert json.loads(staged["manifest.json"].read_bytes())["body"] == pkg.body
    assert {p.name for p in (kit.root / "staging").iterdir()} == set(files) | {"manifest.json"}


def test_zip_is_deterministic_with_manifest_last(kit: Kit):
    files = payload()
    body = kit.body(files)
    sigs = kit.sign(body)
    a = build_package(kit.root / "a.plantml", body, sigs, files)
    b = build_package(kit.root / "b.plantml", body, sigs, files)
    assert a.read_bytes() == b.read_bytes()
    with zipfile.ZipFile(a) as zf:
        infos = zf.infolist()
    assert [i.filename for i in infos] == sorted(files) + ["manifest.json"]
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}


def test_build_accepts_paths_and_refuses_overwrite_and_mismatch(kit: Kit, tmp_path):
    files = payload()
    on_disk = {}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        on_disk[name] = tmp_path / name
    body = kit.body(on_disk)
    assert body == {**kit.body(files), "package_id": body["package_id"]}
    out = build_package(tmp_path / "p.plantml", body, kit.sign(body), on_disk)
    verify_package(out, kit.trust, clock=kit.clock)
    with pytest.raises(Conflict):
        build_package(out, body, kit.sign(body), on_disk)
    with pytest.raises(UsageError, match="model_card.md"):
        build_package(tmp_path / "q.plantml", body, [], {**files, "model_card.md": b"x"})
    with pytest.raises(UsageError):
        build_package(tmp_path / "r.plantml", body, [], {"model.onnx": files["model.onnx"]})


@pytest.mark.parametrize("change", [
    {"hardware_ids": ["*"]}, {"hardware_ids": []}, {"model_name": "../evil"},
    {"release_counter": 0}, {"model_version": True}, {"dataset_hash": "xyz"},
    {"files": {"model_card.md": b"no model"}}, {"files": {"a/b.json": b"{}"}},
    {"expires_in": timedelta(days=-1)},
])
def test_make_body_refuses_what_verify_would_refuse(kit: Kit, change):
    args = {"files": payload(), **change}
    with pytest.raises(UsageError):
        kit.body(**args)


def test_expiry_is_configurable(kit: Kit):
    body = kit.body(payload(), expires_in=timedelta(days=30))
    assert body["expires_at"] == (NOW + timedelta(days=30)).isoformat()
    assert kit.body(payload())["expires_at"] == (NOW + timedelta(days=365)).isoformat()


def test_signature_covers_body_hash_and_fields(kit: Kit):
    body = kit.body(payload())
    sig = sign_body(body, kit.approver, "approver", "alex", "approved", NOW)
    assert sig["key_id"] == key_id_for(kit.approver.public_key())
    assert sig["key_id"] == key_id_of(kit.approver.public_key())
    message = signed_message(body_sha256(body), "approver", "alex", sig["key_id"], "approved",
                             sig["signed_at"])
    assert message == canonical_bytes({"body_sha256": body_sha256(body), "role": "approver",
                                       "user": "alex", "key_id": sig["key_id"],
                                       "meaning": "approved", "signed_at": sig["signed_at"]})
    kit.approver.public_key().verify(bytes.fromhex(sig["signature"]), message)
    with pytest.raises(UsageError):
        sign_body(body, kit.approver, "approver", "alex", "rejected", NOW)
    with pytest.raises(UsageError):
        sign_body(body, Ed25519PrivateKey.generate(), "admin", "root", "approved", NOW)
