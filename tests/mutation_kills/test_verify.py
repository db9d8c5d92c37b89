"""Package verification rule by rule: the expiry override's guard, each refusal's exact message
and its log line, the expiry instant, and what a verified package records."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import logging
import zipfile
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from app.core.errors import UsageError
from app.packages import PackageRefused, accept_package, verify_package, zipsafe
from app.packages.verify import ExpiryOverride
from app.packages.zipsafe import Limits
from tests.packages.kit import HW, NOW, Kit, members, onnx_model, payload, rezip


@pytest.mark.parametrize("who,reason", [("", "line down"), ("  ", "line down"),
                                        ("alex", ""), ("alex", " \t")])
def test_an_override_needs_who_and_a_reason(who, reason):
    with pytest.raises(UsageError, match="^an expiry override needs who and a reason$"):
        ExpiryOverride(who, reason)


def test_a_full_override_is_kept_as_given():
    o = ExpiryOverride(" alex", "line down ")
    assert (o.who, o.reason) == (" alex", "line down ")


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit(root=tmp_path)


# --- Each refusal's exact message and its log line (mutation testing found them unchecked) ---
# A refusal's log line is the plant's evidence of what was refused and why: it must name the
# file, the reason code and the message.

def _refusal(kit: Kit, path: Path, caplog, **kw) -> tuple[PackageRefused, logging.LogRecord]:
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="app.packages.verify"), \
            pytest.raises(PackageRefused) as err:
        verify_package(path, kit.trust, clock=kit.clock, **kw)
    warnings = [r for r in caplog.records if r.name == "app.packages.verify"
                and r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    return err.value, warnings[0]


def test_a_refusal_is_logged_with_file_reason_and_message(kit: Kit, caplog):
    accepted = kit.build(release_counter=5, folder="r5")
    accept_package(kit.trust, verify_package(accepted, kit.trust, clock=kit.clock))
    path = kit.build(release_counter=4, folder="r4")
    err, record = _refusal(kit, path, caplog)
    assert err.reason_code == "counter"
    assert str(err) == ("package release counter 4 of 'bearing' is not above the accepted 5; "
                        "a rollback must come as a new package with a higher counter")
    assert record.getMessage() == f"package {path.name} refused (counter): {err}"


def test_an_old_rollback_package_is_named_as_a_rollback(kit: Kit, caplog):
    accept_package(kit.trust, verify_package(kit.build(release_counter=5, folder="r5"),
                                             kit.trust, clock=kit.clock))
    err, _ = _refusal(kit, kit.build(model_version=2, release_counter=5, rollback_of=4,
                                     folder="rb"), caplog)
    assert str(err) == ("rollback package release counter 5 of 'bearing' is not above the "
                        "accepted 5; a rollback must come as a new package with a higher "
                        "counter")


def test_a_file_that_is_not_a_zip_is_refused_as_format_and_logged(kit: Kit, caplog):
    path = kit.root / "photo.plantml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    err, record = _refusal(kit, path, caplog)
    assert err.reason_code == "format"
    assert str(err) == "photo.plantml is not a readable package zip: File is not a zip file"
    assert record.getMessage() == ("package photo.plantml refused: corrupt zip: "
                                   "File is not a zip file")


class _PulledStick(io.RawIOBase):
    """A package file whose reads fail with an I/O error once they reach the bytes from
    ``fail_at`` to ``fail_end`` (a stick pulled while that member is read)."""

    def __init__(self, path: Path, fail_at: int, fail_end: int) -> None:
        super().__init__()
        self._data = path.read_bytes()
        self._pos = 0
        self._fail = (fail_at, fail_end)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self._pos = (0, self._pos, len(self._data))[whence] + offset
        return self._pos

    def tell(self) -> int:
        return self._pos

    def readinto(self, buf) -> int:  # type: ignore[override]
        start, end = self._pos, min(self._pos + len(buf), len(self._data))
        if start < self._fail[1] and end > self._fail[0]:
            raise OSError(errno.EIO, "Input/output error")
        buf[: end - start] = self._data[start:end]
        self._pos = end
        return end - start


def test_a_read_error_midway_is_refused_as_unreadable_and_logged(kit: Kit, caplog,
                                                                  monkeypatch):
    path = kit.build()
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("model.onnx")
    start = info.header_offset + 30 + len(info.filename)  # stored: the data follows the header
    monkeypatch.setattr(zipsafe, "open_package_file", lambda p, limits: _PulledStick(
        p, start, start + info.file_size))
    err, record = _refusal(kit, path, caplog)
    assert err.reason_code == "unreadable"
    assert str(err) == (f"{path.name} could not be read to the end: "
                        "[Errno 5] Input/output error")
    assert record.getMessage() == (f"package {path.name} refused: read error: "
                                   "[Errno 5] Input/output error")


def test_a_verified_package_is_logged_with_name_version_and_counter(kit: Kit, caplog):
    path = kit.build(model_version=3, release_counter=7)
    with caplog.at_level(logging.INFO, logger="app.packages.verify"):
        verify_package(path, kit.trust, clock=kit.clock)
    assert [r.getMessage() for r in caplog.records if r.name == "app.packages.verify"] == \
        [f"package {path.name} verified: bearing v3 r7"]


def test_expiry_is_exact_to_the_instant(kit: Kit):
    path = kit.build(expires_in=timedelta(days=30))
    kit.clock.jump(timedelta(days=30).total_seconds() - 1e-3)
    assert not verify_package(path, kit.trust, clock=kit.clock).expired
    kit.clock.jump(1e-3)  # exactly expires_at: no longer valid
    with pytest.raises(PackageRefused) as err:
        verify_package(path, kit.trust, clock=kit.clock)
    body = json.loads(members(path)["manifest.json"])["body"]
    assert err.value.reason_code == "expired"
    assert str(err.value) == (f"the package expired at {body['expires_at']}; only an "
                              "approver's override can accept it")


def test_an_accepted_override_is_logged_with_package_who_and_why(kit: Kit, caplog):
    path = kit.build(expires_in=timedelta(days=1))
    kit.clock.jump(timedelta(days=2).total_seconds())
    override = ExpiryOverride("alex", "line down, no newer package")
    with caplog.at_level(logging.INFO, logger="app.packages.verify"):
        pkg = verify_package(path, kit.trust, clock=kit.clock, override=override)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warned == [f"expired package {pkg.package_id} accepted by override of alex: "
                      "line down, no newer package"]


def _with_files(kit: Kit, drop: tuple[str, ...] = (), add: dict[str, bytes] | None = None
                ) -> Path:
    entries = members(kit.build())
    manifest = entries.pop("manifest.json")
    for name in drop:
        del entries[name]
    entries.update(add or {})
    entries["manifest.json"] = manifest
    return rezip(kit.root / "changed.plantml", entries)


@pytest.mark.parametrize("drop,add,detail", [
    ((), {"a.bin": b"1", "b.bin": b"2"}, "not declared: a.bin, b.bin"),
    (("model_card.md", "parity_report.json"), {}, "missing: model_card.md, parity_report.json"),
    (("model_card.md",), {"x.bin": b"1"}, "not declared: x.bin; missing: model_card.md"),
])
def test_a_changed_file_set_names_every_difference(kit: Kit, caplog, drop, add, detail):
    err, _ = _refusal(kit, _with_files(kit, drop, add), caplog)
    assert err.reason_code == "file_set"
    assert str(err) == f"the package files differ from the manifest; {detail}"


def test_other_hardware_is_refused_listing_what_is_allowed(kit: Kit, caplog):
    path = kit.build(hardware_ids=["ctrl-a1", "ctrl-a2"])
    err, _ = _refusal(kit, path, caplog, hardware_id="ctrl-b9")
    assert err.reason_code == "hardware"
    assert str(err) == "the package allows hardware ctrl-a1, ctrl-a2, not 'ctrl-b9'"


def test_external_data_is_refused_naming_the_model_file(kit: Kit, caplog):
    path = kit.build(files=payload(onnx_model(external="weights.bin")))
    err, _ = _refusal(kit, path, caplog)
    assert err.reason_code == "onnx"
    assert str(err) == ("model.onnx references external data, which a package may not carry: "
                        "C -> weights.bin")


def test_the_verified_package_records_what_was_checked(kit: Kit):
    limits = Limits(max_members=16)
    path = kit.build()
    pkg = verify_package(path, kit.trust, clock=kit.clock, hardware_id=HW, limits=limits)
    assert (pkg.verified_at, pkg.hardware_id, pkg.limits) == (NOW, HW, limits)
    assert pkg.package_sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert verify_package(path, kit.trust, clock=kit.clock).hardware_id is None


def test_golden_files_larger_than_a_read_chunk_verify(kit: Kit):
    # Many golden windows: both golden files span several read chunks, so they are joined.
    windows = np.arange(4 * 70_000, dtype=np.float32).reshape(70_000, 4)
    files = payload()
    buf = io.BytesIO()
    np.save(buf, windows)
    files["golden_inputs.npy"] = buf.getvalue()
    files["golden_outputs.json"] = json.dumps((windows + 1).tolist()).encode()
    assert min(len(files["golden_inputs.npy"]), len(files["golden_outputs.json"])) > zipsafe.CHUNK
    pkg = verify_package(kit.build(files=files), kit.trust, clock=kit.clock)
    assert pkg.files["golden_outputs.json"]["length"] == len(files["golden_outputs.json"])
