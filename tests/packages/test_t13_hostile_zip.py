"""T13: huge members, zip bombs, unsafe names, links and ONNX external data, refused at the cap."""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from app.packages import Limits, PackageRefused, unpack_to_staging, verify_package
from app.packages.build import _info
from app.packages.onnxcheck import check_onnx_file
from tests.packages.kit import Kit, members, onnx_model, payload, resign_manifest, rezip, tree


def _zip(out: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name on purpose
        for info, data in entries:
            zf.writestr(info if isinstance(info, zipfile.ZipInfo) else _info(info), data)
    out.write_bytes(buf.getvalue())
    return out


def _refused(kit: Kit, path: Path, reason: str, limits: Limits | None = None) -> str:
    before = tree(kit.root)
    with pytest.raises(PackageRefused) as err:
        verify_package(path, kit.trust, clock=kit.clock, limits=limits)
    assert err.value.reason_code == reason, str(err.value)
    assert tree(kit.root) == before
    return str(err.value)


def _with_member(kit: Kit, info: zipfile.ZipInfo | str, data: bytes = b"x") -> Path:
    good = kit.root / "out" / "bearing-v1-r1.plantml"
    entries = list(members(good if good.exists() else kit.build()).items())
    return _zip(kit.root / "evil.plantml", [*entries[:-1], (info, data), entries[-1]])


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """1 GiB of zeros declared, about 4.5 MB on disk, streamed so memory stays small."""
    path = tmp_path_factory.mktemp("bomb") / "bomb.plantml"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        with zf.open("model.onnx", "w", force_zip64=True) as member:
            zeros = bytes(1 << 22)
            for _ in range(256):
                member.write(zeros)
        zf.writestr("manifest.json", b"{}")
    return path


def test_zip_bomb_refused_from_the_directory(kit: Kit, bomb: Path, monkeypatch):
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda *a, **k: pytest.fail("member opened"))
    message = _refused(kit, bomb, "zip_bomb")
    assert "model.onnx" in message and "1073741824" in message


def test_package_over_the_size_cap_is_not_even_opened(kit: Kit, monkeypatch):
    path = kit.build()
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("zip opened"))
    _refused(kit, path, "size", Limits(max_package_bytes=path.stat().st_size - 1))


def test_member_over_the_cap(kit: Kit):
    # Two golden windows (the kit's golden outputs have two values), 200 kB of them.
    buf = io.BytesIO()
    np.save(buf, np.random.default_rng(0).normal(size=(2, 25_000)).astype(np.float32))
    big = buf.getvalue()
    path = kit.build(files={**payload(), "golden_inputs.npy": big})
    message = _refused(kit, path, "size", Limits(max_member_bytes=100_000))
    assert "golden_inputs.npy" in message
    _refused(kit, path, "size", Limits(max_total_bytes=150_000))
    verify_package(path, kit.trust, clock=kit.clock)


def test_too_many_members_and_big_manifest(kit: Kit):
    path = kit.build()
    _refused(kit, path, "size", Limits(max_members=5))
    assert "manifest.json" in _refused(kit, path, "size", Limits(max_manifest_bytes=100))


@pytest.mark.parametrize("name", ["../x", "/abs", "C:\\x", "C:x", "a\\b", "sub/x", "..",
                                  ".hidden", "a..b"])
def test_unsafe_names(kit: Kit, name: str):
    assert repr(name) in _refused(kit, _with_member(kit, name), "path")


def test_directory_member(kit: Kit):
    _refused(kit, _with_member(kit, zipfile.ZipInfo("folder/")), "path")


def test_symlink_member(kit: Kit):
    info = _info("link")
    info.external_attr = 0o120777 << 16
    assert "symbolic link" in _refused(kit, _with_member(kit, info, b"/etc/passwd"), "path")


def test_duplicate_and_case_folded_names(kit: Kit):
    _refused(kit, _with_member(kit, "model.onnx"), "path")
    _refused(kit, _with_member(kit, "MODEL.onnx"), "path")


def test_onnx_external_data_pointing_outside(kit: Kit):
    evil = onnx_model(external="../../etc/passwd")
    path = kit.build(files=payload(evil))
    assert "../../etc/passwd" in _refused(kit, path, "onnx")
    # The staging-side check refuses the same file on disk, without following the link.
    model = kit.root / "m.onnx"
    model.write_bytes(evil)
    with pytest.raises(PackageRefused, match="external data"):
        check_onnx_file(model)
    model.write_bytes(onnx_model())
    check_onnx_file(model)


def test_unpack_refuses_external_data_and_leaves_nothing(kit: Kit):
    path = kit.build(files=payload(onnx_model(external="../../etc/passwd")))
    pkg = verify_package(path, kit.trust, clock=kit.clock, check_model=False)
    staging = kit.root / "stage"
    with pytest.raises(PackageRefused, match="external data"):
        unpack_to_staging(pkg, staging)
    assert not staging.exists()


def test_model_that_is_not_onnx(kit: Kit):
    _refused(kit, kit.build(files=payload(b"\xff" * 64)), "onnx")


def test_manifest_must_be_last_strict_and_canonical(kit: Kit):
    entries = members(kit.build())
    manifest = entries.pop("manifest.json")
    _refused(kit, _zip(kit.root / "first.plantml", [("manifest.json", manifest),
                                                    *entries.items()]), "format")
    spaced = manifest.replace(b'  "body"', b'   "body"')
    assert "not written as" in _refused(
        kit, rezip(kit.root / "spaced.plantml", {**entries, "manifest.json": spaced}), "format")
    dup = b'{"body": {}, "body": {}, "signatures": []}'
    assert "duplicate" in _refused(
        kit, rezip(kit.root / "dup.plantml", {**entries, "manifest.json": dup}), "manifest")
    for i, bad in enumerate([b'{"body": NaN, "signatures": []}',
                             b'{"body": {"x": 1e400}, "signatures": []}',
                             b'\xff\xfe{}', b"[" * 100_000, b"[]"]):
        path = rezip(kit.root / f"bad{i}.plantml", {**entries, "manifest.json": bad})
        _refused(kit, path, "manifest")


@pytest.mark.parametrize("change", [
    {"files": {"model.onnx": "abc"}}, {"files": []}, {"hardware_ids": "ctrl-a1"},
    {"model_version": "1"}, {"created_at": "yesterday"}, {"input_schema": [{"name": 1}]},
    {"schema": "plantml-package-v0"}, {"unexpected": 1}, {"expires_at": "2020-01-01T00:00:00"},
])
def test_signed_but_malformed_body_refused(kit: Kit, change):
    entries = members(kit.build())
    body = {**json.loads(entries["manifest.json"])["body"], **change}
    entries["manifest.json"] = resign_manifest(body, kit.sign(body))
    _refused(kit, rezip(kit.root / "malformed.plantml", entries), "manifest")


def test_container_bytes_outside_the_contents_are_covered(kit: Kit):
    data = kit.build().read_bytes()
    cases = {
        "prepended": b"MZ" + data,
        "appended": data + b"\x00",
        "comment": data[:-2] + b"\x01\x00" + b"x",
        "timestamp": data[:10] + b"\x01" + data[11:],
    }
    for label, blob in cases.items():
        path = kit.root / f"{label}.plantml"
        path.write_bytes(blob)
        with pytest.raises(PackageRefused):
            verify_package(path, kit.trust, clock=kit.clock)
