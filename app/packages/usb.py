"""USB transfer: list removable drives, export a package with read-back, import by verifying."""

from __future__ import annotations

import hashlib
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.clock import Clock
from app.core.errors import Cancelled, Conflict, NotFound, StorageError
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.packages import zipsafe
from app.packages.errors import PackageRefused
from app.packages.trust import TrustStore
from app.packages.verify import ExpiryOverride, VerifiedPackage, verify_package
from app.packages.zipsafe import Limits
from app.store.durable import durable_write

log = logging.getLogger(__name__)

CHUNK = 1 << 20
SIDECAR_SUFFIX = ".sha256"
_MOUNT_ROOTS = ("/media/", "/run/media/", "/mnt/")
_DRIVE_REMOVABLE = 2


@dataclass(frozen=True)
class RemovableDrive:
    """A mounted removable drive: where to write, and a label to show."""

    path: Path
    label: str


@dataclass(frozen=True)
class ExportResult:
    """What export established; ``safe_to_remove`` only once the copy verified on the stick."""

    path: Path
    sidecar: Path
    sha256: str
    size: int
    package: VerifiedPackage
    safe_to_remove: bool = True


def _windows_drives() -> list[RemovableDrive]:
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    mask = kernel32.GetLogicalDrives()
    drives = []
    for i in range(26):
        if mask & (1 << i):
            root = f"{chr(ord('A') + i)}:\\"
            if kernel32.GetDriveTypeW(root) == _DRIVE_REMOVABLE:
                drives.append(RemovableDrive(Path(root), root))
    return drives


def _unescape(field: str) -> str:
    # /proc/mounts writes space, tab, newline and backslash as octal escapes.
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field


def _is_removable(device: str, sys_root: Path) -> bool:
    name = Path(os.path.realpath(device)).name
    node = sys_root / "class" / "block" / name
    if not node.exists():
        return False
    disk = Path(os.path.realpath(node))
    if (disk / "partition").exists():
        disk = disk.parent
    try:
        flag = (sys_root / "block" / disk.name / "removable").read_text().strip()
    except OSError:
        return False
    # Many USB sticks and card readers report removable=0; their sysfs path shows the bus.
    return flag == "1" or "/usb" in str(disk)


def _linux_drives(mounts: Path, sys_root: Path) -> list[RemovableDrive]:
    try:
        lines = mounts.read_text().splitlines()
    except OSError:
        return []
    drives = []
    for line in lines:
        fields = line.split()
        if len(fields) < 2 or not fields[0].startswith("/dev/"):
            continue
        mount_point = _unescape(fields[1])
        if mount_point.startswith(_MOUNT_ROOTS) and _is_removable(fields[0], sys_root):
            drives.append(RemovableDrive(Path(mount_point), Path(mount_point).name))
    return drives


def list_removable_drives(*, mounts: Path = Path("/proc/mounts"),
                          sys_root: Path = Path("/sys")) -> list[RemovableDrive]:
    """Mounted removable drives on Windows and Linux; an empty list elsewhere or on error."""
    try:
        if sys.platform == "win32":
            return _windows_drives()
        if sys.platform.startswith("linux"):
            return _linux_drives(mounts, sys_root)
    except OSError as exc:
        log.warning("could not list removable drives: %s", exc)
    return []


def _copy_chunks(source: Path, size: int, digest: Any, progress: ProgressFn,
                 cancel: CancelToken) -> Iterator[bytes]:
    done = 0
    with open(source, "rb") as fh:
        while chunk := fh.read(CHUNK):
            cancel.raise_if_cancelled()
            digest.update(chunk)
            done += len(chunk)
            progress(0.8 * done / max(size, 1), f"writing {source.name}")
            yield chunk


def _read_back(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        # Drop cached pages so the read-back comes from the stick, not from memory.
        if hasattr(os, "posix_fadvise"):
            os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def export_package(package_path: Path, drive_folder: Path, trust: TrustStore, *,
                   clock: Clock | None = None, override: ExpiryOverride | None = None,
                   limits: Limits | None = None, progress: ProgressFn = no_progress,
                   cancel: CancelToken = NEVER_CANCELLED) -> ExportResult:
    """Copy a package onto a stick and prove the copy good before saying it may be removed.

    Temp name, fsync, rename, fsync the folder (the durable-write helper); then read the
    whole file back and compare SHA-256 with the source; then verify the copy in full
    (the counter excepted: the exporting workstation may have accepted it already); then
    write ``NAME.plantml.sha256``. Raises StorageError if the stick fails or is pulled,
    PackageRefused if the copy does not verify, Cancelled if cancelled.
    """
    source, folder = Path(package_path), Path(drive_folder)
    target = folder / source.name
    if not source.is_file():
        raise NotFound(f"there is no package file {source}")
    if target.exists():
        raise Conflict(f"{target} already exists on the drive")
    size = source.stat().st_size
    digest = hashlib.sha256()
    try:
        durable_write(target, _copy_chunks(source, size, digest, progress, cancel))
        progress(0.85, "reading the copy back")
        back = _read_back(target)
    except Cancelled:
        raise
    except OSError as exc:
        raise StorageError(f"writing {source.name} to {folder} failed: {exc}; the drive may "
                           "have been removed. Do not use the copy.") from exc
    if back != digest.hexdigest():
        raise PackageRefused("hash", f"the copy of {source.name} on {folder} reads back "
                             "different bytes; the drive is unreliable")
    progress(0.9, "verifying the copy")
    package = verify_package(target, trust, clock=clock, override=override, limits=limits,
                             enforce_counter=False)
    sidecar = target.with_name(target.name + SIDECAR_SUFFIX)
    try:
        durable_write(sidecar, f"{back}  {target.name}\n".encode())
    except OSError as exc:
        raise StorageError(f"writing {sidecar.name} to {folder} failed: {exc}") from exc
    progress(1.0, "safe to remove")
    log.info("package %s exported to %s and verified (%s)", source.name, folder, back[:12])
    return ExportResult(path=target, sidecar=sidecar, sha256=back, size=size, package=package)


def _sidecar_hash(package: Path) -> str | None:
    sidecar = package.with_name(package.name + SIDECAR_SUFFIX)
    if not sidecar.exists():
        return None
    zipsafe.require_regular_file(sidecar, "the checksum file")
    try:
        with open(sidecar, "rb") as fh:
            text = fh.read(4096).decode("ascii", errors="replace")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PackageRefused("unreadable", f"{sidecar.name} cannot be read: {exc}") from exc
    return text.split()[0].lower() if text.split() else ""


def _capped_copy(source: Path, cap: int, progress: ProgressFn,
                 cancel: CancelToken) -> Iterator[bytes]:
    done = 0
    with open(source, "rb") as fh:
        while chunk := fh.read(CHUNK):
            cancel.raise_if_cancelled()
            done += len(chunk)
            if done > cap:
                raise PackageRefused("size", f"{source.name} is over the cap of {cap} bytes")
            progress(0.5 * min(done / max(cap, 1), 1.0), f"copying {source.name}")
            yield chunk


def import_package(path_on_stick: Path, trust: TrustStore, *, local_dir: Path | None = None,
                   clock: Clock | None = None, hardware_id: str | None = None,
                   override: ExpiryOverride | None = None, limits: Limits | None = None,
                   progress: ProgressFn = no_progress,
                   cancel: CancelToken = NEVER_CANCELLED) -> VerifiedPackage:
    """Verify a package from a stick and return it for the caller to register.

    With ``local_dir`` the file is first copied there and the copy is verified, so what
    was verified is exactly what gets unpacked later, whatever happens to the stick; a
    refused copy is deleted again. A ``.sha256`` sidecar, when present, must match.
    Every failure to read or verify is a PackageRefused (an IntegrityError). The trusted
    counter does not move: call ``accept_package`` after registering.
    """
    limits = limits or Limits()
    source = Path(path_on_stick)
    zipsafe.require_regular_file(source)
    expected = _sidecar_hash(source)
    target = source
    if local_dir is not None:
        target = Path(local_dir) / source.name
        if target.exists():
            raise Conflict(f"{target} already exists; import into a fresh folder")
        try:
            durable_write(target, _capped_copy(source, limits.max_package_bytes, progress,
                                               cancel))
        except OSError as exc:
            raise PackageRefused("unreadable", f"{source.name} could not be read from the "
                                 f"drive: {exc}") from exc
    try:
        progress(0.6, f"verifying {source.name}")
        package = verify_package(target, trust, clock=clock, hardware_id=hardware_id,
                                 override=override, limits=limits)
        if expected is not None and expected != package.package_sha256:
            raise PackageRefused("hash", f"{source.name} does not match its {SIDECAR_SUFFIX} "
                                 "file")
    except BaseException:
        if target != source:
            target.unlink(missing_ok=True)
        raise
    progress(1.0, "verified")
    return package
