"""T14 and USB transfer: cut or flipped copies never verify; export proves the copy good."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from app.core import faults
from app.core.errors import Cancelled, IntegrityError, StorageError
from app.core.faults import FaultPlan
from app.core.progress import CancelToken
from app.packages import (
    Limits,
    PackageRefused,
    export_package,
    import_package,
    list_removable_drives,
    usb,
    verify_package,
)
from app.store.durable import TEMP_MARK
from tests.packages.kit import Kit


def test_cut_at_200_offsets_never_verifies(kit: Kit):
    good = kit.build()
    data = good.read_bytes()
    offsets = [0, 1, len(data) - 1, *random.Random(14).sample(range(2, len(data) - 1), 197)]
    stick = kit.root / "stick"
    stick.mkdir()
    for i, cut in enumerate(offsets):
        path = stick / good.name
        path.write_bytes(data[:cut])
        local = kit.root / "ws" / "incoming" / str(i)
        try:
            import_package(path, kit.trust, local_dir=local, clock=kit.clock)
        except PackageRefused as exc:
            assert type(exc) is PackageRefused and isinstance(exc, IntegrityError)
        else:
            pytest.fail(f"a package cut at byte {cut} of {len(data)} verified")
        assert not local.exists() or not any(local.iterdir()), "a refused copy was kept"
    assert kit.trust.counter("bearing") is None


def test_flipped_bytes_never_verify(kit: Kit, tmp_path: Path):
    data = kit.build().read_bytes()
    rng = random.Random(1415)
    path = tmp_path / "flipped.plantml"
    for offset in rng.sample(range(len(data)), 300):
        blob = bytearray(data)
        blob[offset] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(blob))
        with pytest.raises(PackageRefused):
            verify_package(path, kit.trust, clock=kit.clock)


def test_export_reads_back_verifies_and_writes_sidecar(kit: Kit):
    source = kit.build()
    stick = kit.root / "stick"
    seen: list[tuple[float, str]] = []
    result = export_package(source, stick, kit.trust, clock=kit.clock,
                            progress=lambda f, m: seen.append((f, m)))
    assert result.safe_to_remove and result.path.read_bytes() == source.read_bytes()
    assert result.sidecar.read_text() == f"{result.sha256}  {source.name}\n"
    assert seen[-1] == (1.0, "safe to remove")
    assert sorted(p.name for p in stick.iterdir()) == [source.name, source.name + ".sha256"]
    pkg = import_package(result.path, kit.trust, local_dir=kit.root / "ws" / "in",
                         clock=kit.clock)
    assert pkg.package_sha256 == result.sha256 and pkg.path.parent == kit.root / "ws" / "in"


def test_export_cut_at_every_write_step_never_says_safe(kit: Kit, monkeypatch):
    source = kit.build()
    monkeypatch.setattr(usb, "CHUNK", 512)
    # Package chunks, its fsync and rename, then the sidecar's write, fsync and rename.
    steps = -(-source.stat().st_size // 512) + 2 + 3
    outcomes = []
    for k in range(1, steps + 2):
        stick = kit.root / f"stick{k}"
        faults.install(FaultPlan(fail_at=k))
        try:
            result = export_package(source, stick, kit.trust, clock=kit.clock)
        except StorageError:
            result = None
        finally:
            faults.install(None)
        names = {p.name for p in stick.iterdir()} if stick.exists() else set()
        assert not [n for n in names if n.startswith(TEMP_MARK)], "a temp file was left"
        outcomes.append(result is not None)
        if result is None and source.name in names:
            # Cut while writing the sidecar: the package was renamed into place whole.
            assert source.name + ".sha256" not in names
            verify_package(stick / source.name, kit.trust, clock=kit.clock)
        elif result is None:
            assert names == set()
    assert outcomes == [False] * steps + [True]


def test_export_cancel_leaves_nothing(kit: Kit, monkeypatch):
    source = kit.build()
    token = CancelToken()
    monkeypatch.setattr(usb, "CHUNK", 256)

    def progress(fraction: float, message: str) -> None:
        if fraction > 0.2:
            token.cancel()

    with pytest.raises(Cancelled):
        export_package(source, kit.root / "stick", kit.trust, clock=kit.clock,
                       progress=progress, cancel=token)
    assert list((kit.root / "stick").iterdir()) == []


def test_import_refuses_a_sidecar_mismatch(kit: Kit):
    result = export_package(kit.build(), kit.root / "stick", kit.trust, clock=kit.clock)
    result.sidecar.write_text("0" * 64 + "  x\n")
    with pytest.raises(PackageRefused, match="sha256"):
        import_package(result.path, kit.trust, local_dir=kit.root / "in", clock=kit.clock)
    assert list((kit.root / "in").iterdir()) == []


def test_import_refuses_a_missing_file_and_an_oversized_one(kit: Kit):
    with pytest.raises(PackageRefused) as err:
        import_package(kit.root / "nope.plantml", kit.trust, local_dir=kit.root / "in")
    assert err.value.reason_code == "unreadable"
    path = kit.build()
    with pytest.raises(PackageRefused) as err:
        import_package(path, kit.trust, local_dir=kit.root / "in2",
                       limits=Limits(max_package_bytes=1000))
    assert err.value.reason_code == "size"


def test_list_removable_drives_returns_a_list():
    drives = list_removable_drives()
    assert isinstance(drives, list)


def test_linux_drive_listing_from_fake_proc_and_sys(tmp_path: Path):
    sys_root = tmp_path / "sys"
    disk = sys_root / "devices" / "pci0" / "usb1" / "block" / "sdb"
    (disk / "sdb1").mkdir(parents=True)
    (disk / "sdb1" / "partition").write_text("1")
    (sys_root / "block" / "sdb").mkdir(parents=True)
    (sys_root / "block" / "sdb" / "removable").write_text("1\n")
    fixed = sys_root / "devices" / "pci0" / "ata1" / "block" / "sda"
    (fixed / "sda1").mkdir(parents=True)
    (fixed / "sda1" / "partition").write_text("1")
    (sys_root / "block" / "sda").mkdir(parents=True)
    (sys_root / "block" / "sda" / "removable").write_text("0\n")
    (sys_root / "class" / "block").mkdir(parents=True)
    (sys_root / "class" / "block" / "sdb1").symlink_to(disk / "sdb1")
    (sys_root / "class" / "block" / "sda1").symlink_to(fixed / "sda1")
    mounts = tmp_path / "mounts"
    mounts.write_text("/dev/sda1 / ext4 rw 0 0\n"
                      "/dev/sda1 /mnt/data ext4 rw 0 0\n"
                      "/dev/sdb1 /media/erin/PLANT\\040STICK vfat rw 0 0\n"
                      "tmpfs /run tmpfs rw 0 0\n")
    drives = usb._linux_drives(mounts, sys_root)
    assert [(d.path, d.label) for d in drives] == [(Path("/media/erin/PLANT STICK"),
                                                    "PLANT STICK")]
