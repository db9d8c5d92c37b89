"""Slots A and B on disk and the small state file that says which one runs (durable writes)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.core.errors import StorageError
from app.packages.manifest import MAX_COUNTER
from app.packages.staging import unpack_to_staging
from app.packages.verify import VerifiedPackage
from app.store.durable import durable_write, remove_stale_temps

log = logging.getLogger(__name__)

SLOTS = ("A", "B")
STATE_FILE = "state.json"
PACKAGE_FILE = "package.plantml"
INCOMING = "incoming"


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file, streamed."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class SlotInfo:
    """What a slot holds: the package file's SHA-256 and the manifest fields shown in status."""

    sha256: str
    model_name: str
    model_version: int
    release_counter: int
    package_id: str
    model_sha256: str

    @classmethod
    def of(cls, package: VerifiedPackage) -> SlotInfo:
        return cls(sha256=package.package_sha256, model_name=package.model_name,
                   model_version=package.model_version,
                   release_counter=package.release_counter, package_id=package.package_id,
                   model_sha256=package.files["model.onnx"]["sha256"])


def _counter(name: str, value: Any) -> int:
    # The same range the workstation's manifests and trust files keep (app.packages.manifest).
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_COUNTER:
        raise ValueError(f"the accepted counter of {name!r} is {value!r}, not 0 to "
                         f"{MAX_COUNTER}")
    return value


@dataclass
class DiskState:
    """The state file. ``pending`` is the active slot while its activation is unconfirmed."""

    active: str | None = None
    previous: str | None = None
    pending: str | None = None
    slots: dict[str, SlotInfo] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    boot_count: int = 0

    def to_json(self) -> bytes:
        doc = {"version": 1, "active": self.active, "previous": self.previous,
               "pending": self.pending, "counters": dict(sorted(self.counters.items())),
               "slots": {k: asdict(v) for k, v in sorted(self.slots.items())},
               "boot_count": self.boot_count}
        return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> DiskState:
        doc: dict[str, Any] = json.loads(raw.decode("utf-8"))
        return cls(active=doc["active"], previous=doc["previous"], pending=doc["pending"],
                   slots={k: SlotInfo(**v) for k, v in doc["slots"].items()},
                   counters={k: _counter(k, v) for k, v in doc["counters"].items()},
                   boot_count=int(doc.get("boot_count", 0)))

    def other(self, slot: str | None) -> str:
        """The slot that is not ``slot`` (A when none runs)."""
        return "B" if slot == "A" else "A"


class SlotStore:
    """The state folder: ``state.json``, ``slot_a/``, ``slot_b/`` and ``incoming/``.

    Only ``state.json`` decides what runs; it is replaced atomically (the durable-write
    helper), and a slot folder is trusted only while the state file names it and its package
    file still hashes to the recorded SHA-256. So a power cut at any moment leaves either the
    old or the new state file, both naming complete slots.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def slot_dir(self, slot: str) -> Path:
        return self.root / f"slot_{slot.lower()}"

    @property
    def incoming(self) -> Path:
        return self.root / INCOMING / PACKAGE_FILE

    def load(self) -> DiskState:
        path = self.root / STATE_FILE
        if not path.exists():
            return DiskState()
        try:
            return DiskState.from_json(path.read_bytes())
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Atomic replaces cannot produce this; only a damaged disk can. Refuse to guess.
            raise StorageError(f"the controller state file {path} is unreadable: {exc}") from exc

    def save(self, state: DiskState) -> None:
        try:
            durable_write(self.root / STATE_FILE, state.to_json())
        except OSError as exc:
            raise StorageError(f"the controller state file could not be written: {exc}") from exc

    def slot_ok(self, slot: str, info: SlotInfo) -> bool:
        """True if the slot's package and model still hash to what the state file records."""
        folder = self.slot_dir(slot)
        try:
            return (file_sha256(folder / PACKAGE_FILE) == info.sha256
                    and file_sha256(folder / "model.onnx") == info.model_sha256)
        except OSError:
            return False

    def boot(self) -> tuple[DiskState, list[str]]:
        """Bring the folder to a known state after any stop, clean or not; returns notes.

        An unconfirmed activation is reverted; a damaged active slot falls back to the
        previous one; slot folders the state file does not name are deleted.
        """
        remove_stale_temps(self.root)
        state, notes = self.load(), []
        if state.pending is not None:
            failed = state.pending
            notes.append(f"unconfirmed activation of slot {failed} reverted at boot")
            state.slots.pop(failed, None)
            state.active, state.previous, state.pending = state.previous, None, None
        if state.active is not None and not self.slot_ok(state.active,
                                                         state.slots[state.active]):
            notes.append(f"slot {state.active} is damaged; falling back")
            state.slots.pop(state.active, None)
            state.active, state.previous = state.previous, None
        if state.active is not None and not self.slot_ok(state.active,
                                                         state.slots[state.active]):
            notes.append(f"slot {state.active} is damaged too; no model")
            state.slots.pop(state.active, None)
            state.active = None
        if state.previous is not None and (state.previous not in state.slots or not
                                           self.slot_ok(state.previous,
                                                        state.slots[state.previous])):
            state.slots.pop(state.previous, None)
            state.previous = None
        keep = {s for s in (state.active, state.previous) if s is not None}
        state.slots = {k: v for k, v in state.slots.items() if k in keep}
        state.boot_count += 1
        self.save(state)
        for slot in SLOTS:
            if slot not in keep:
                shutil.rmtree(self.slot_dir(slot), ignore_errors=True)
        shutil.rmtree(self.root / INCOMING, ignore_errors=True)
        for note in notes:
            log.warning("%s", note)
        return state, notes

    def free_slot(self, state: DiskState, slot: str) -> None:
        """Make ``slot`` writable: forget it in the state file first, then delete it."""
        if slot in (state.active, state.pending):
            raise StorageError(f"slot {slot} runs the model; it cannot be overwritten")
        if slot in state.slots or state.previous == slot:
            state.slots.pop(slot, None)
            if state.previous == slot:
                state.previous = None
            self.save(state)
        shutil.rmtree(self.slot_dir(slot), ignore_errors=True)

    def write_incoming(self, data: bytes) -> Path:
        """The received package, durably, where verification reads it."""
        try:
            durable_write(self.incoming, data)
        except OSError as exc:
            raise StorageError(f"the received package could not be stored: {exc}") from exc
        return self.incoming

    def install(self, slot: str, package: VerifiedPackage, data: bytes) -> dict[str, Path]:
        """Unpack a verified package into the (freed) slot and keep the package file too."""
        folder = self.slot_dir(slot)
        files = unpack_to_staging(package, folder)
        try:
            durable_write(folder / PACKAGE_FILE, data)
        except OSError as exc:
            shutil.rmtree(folder, ignore_errors=True)
            raise StorageError(f"slot {slot} could not be written: {exc}") from exc
        with contextlib.suppress(OSError):
            self.incoming.unlink()
        return files

    def files(self, slot: str) -> dict[str, Path]:
        """The files of an installed slot by name."""
        folder = self.slot_dir(slot)
        return {p.name: p for p in folder.iterdir() if p.is_file()}
