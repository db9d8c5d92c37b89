"""T09 and T11: changed, added, missing, renamed or swapped files; other hardware ids."""

from __future__ import annotations

import pytest

from app.packages import PackageRefused, unpack_to_staging, verify_package, zipsafe
from tests.packages.kit import (
    HW,
    Kit,
    members,
    onnx_model,
    payload,
    resign_manifest,
    rezip,
    tree,
)


def _refused(kit: Kit, path, reason: str, name: str, **kw) -> PackageRefused:
    before = tree(kit.root)
    with pytest.raises(PackageRefused) as err:
        verify_package(path, kit.trust, clock=kit.clock, **kw)
    assert err.value.reason_code == reason, str(err.value)
    assert name in str(err.value)
    assert tree(kit.root) == before, "verification wrote something"
    return err.value


def test_one_byte_of_the_model_changed(kit: Kit):
    entries = members(kit.build())
    model = bytearray(entries["model.onnx"])
    model[len(model) // 2] ^= 0x01
    entries["model.onnx"] = bytes(model)
    _refused(kit, rezip(kit.root / "t.plantml", entries), "hash", "model.onnx")


def test_file_added(kit: Kit):
    entries = members(kit.build())
    manifest = entries.pop("manifest.json")
    entries.update({"extra.bin": b"surprise", "manifest.json": manifest})
    _refused(kit, rezip(kit.root / "t.plantml", entries), "file_set", "extra.bin")


def test_file_missing(kit: Kit):
    entries = members(kit.build())
    del entries["golden_outputs.json"]
    _refused(kit, rezip(kit.root / "t.plantml", entries), "file_set",
             "golden_outputs.json")


def test_file_renamed(kit: Kit):
    entries = members(kit.build())
    manifest = entries.pop("manifest.json")
    entries["model_card.txt"] = entries.pop("model_card.md")
    entries["manifest.json"] = manifest
    err = _refused(kit, rezip(kit.root / "t.plantml", entries), "file_set",
                   "model_card.md")
    assert "model_card.txt" in str(err)


@pytest.mark.parametrize("delta", [1, -1])
def test_declared_length_wrong(kit: Kit, delta):
    # Signed as it stands: only the length check itself can catch it.
    files = payload()
    body = kit.body(files)
    body["files"]["parity_report.json"]["length"] += delta
    entries = {**files, "manifest.json": _manifest(kit, body)}
    path = rezip(kit.root / "t.plantml", entries)
    _refused(kit, path, "length", "parity_report.json")


def _manifest(kit: Kit, body) -> bytes:
    return resign_manifest(body, kit.sign(body))


def test_payload_longer_than_declared_is_cut_at_the_cap(kit: Kit):
    files = payload()
    body = kit.body(files)
    files["model_card.md"] += b"x" * 100
    entries = {**files, "manifest.json": _manifest(kit, body)}
    path = rezip(kit.root / "t.plantml", entries)
    _refused(kit, path, "length", "model_card.md")


def test_manifest_of_a_with_model_of_b(kit: Kit):
    a = members(kit.build(folder="a"))
    b = members(kit.build(files=payload(onnx_model(offset=2.0)), folder="b", release_counter=2))
    assert a["model.onnx"] != b["model.onnx"]
    a["model.onnx"] = b["model.onnx"]
    _refused(kit, rezip(kit.root / "ab.plantml", a), "hash", "model.onnx")


def test_other_hardware_id_refused_allowed_one_accepted(kit: Kit):
    path = kit.build(hardware_ids=[HW, "ctrl-b2"])
    _refused(kit, path, "hardware", "ctrl-zz9", hardware_id="ctrl-zz9")
    assert verify_package(path, kit.trust, clock=kit.clock, hardware_id="ctrl-b2")
    assert verify_package(path, kit.trust, clock=kit.clock, hardware_id=None)


def test_package_changed_after_verification_is_refused_at_unpack(kit: Kit):
    path = kit.build()
    pkg = verify_package(path, kit.trust, clock=kit.clock)
    entries = members(path)
    entries["golden_inputs.npy"] = entries["golden_inputs.npy"][:-1] + b"\x00"
    rezip(path, entries)
    before = tree(kit.root)
    staging = kit.root / "stage"
    with pytest.raises(PackageRefused, match="golden_inputs.npy") as err:
        unpack_to_staging(pkg, staging)
    assert err.value.reason_code == "hash"
    assert tree(kit.root) == before and not staging.exists()


def test_payload_is_read_for_a_good_package(kit: Kit, monkeypatch):
    # The control for T08's spy: verification of a good package does go through it.
    calls = []
    real = zipsafe.payload_chunks

    def spy(zf, info, declared):
        calls.append(info.filename)
        return real(zf, info, declared)

    monkeypatch.setattr(zipsafe, "payload_chunks", spy)
    verify_package(kit.build(), kit.trust, clock=kit.clock)
    assert set(calls) == set(payload())
