"""Verifying an audit export on any machine, with nothing but its files, optionally pinned
public keys and anchors kept elsewhere (docs/audit-export.md)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.audit.checkpoints import checkpoint_from_json
from app.audit.expected import CHECKPOINTED_ACTIONS, Expected
from app.audit.export import (
    CHECKPOINT,
    CHECKPOINTS,
    EVENTS_JSONL,
    FORMAT,
    FORMAT_V1,
    FORMAT_V2,
    MANIFEST,
    PUBLIC_KEY,
)
from app.audit.keylist import KEYS, read_key_list
from app.audit.keyring import KeyRing
from app.audit.keys import key_id_of, load_public_pem, verify_signature
from app.audit.verify import Anchor, verify_rows
from app.core.canonical import canonical_bytes
from app.core.errors import IntegrityError
from app.core.records import Checkpoint, VerifyReport

#: How an event that always gets a checkpoint shows in a body (canonical JSON): only the
#: events holding this text are parsed while the chain is walked.
_MARKERS = tuple(f'"action":"{a}"' for a in CHECKPOINTED_ACTIONS)
#: Every format this version reads: the current one and the two before it.
FORMATS = (FORMAT, FORMAT_V2, FORMAT_V1)


def is_export(path: Path) -> bool:
    """True if ``path`` is a folder holding an audit export."""
    return Path(path).is_dir() and (Path(path) / MANIFEST).exists()


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IntegrityError(f"{path} is not a readable part of an audit export: {exc}") from exc


def verify_export(folder: Path, pinned_public_pem: bytes | Sequence[bytes] | None = None,
                  anchors: Sequence[Anchor] = ()) -> VerifyReport:
    """Verify an export with nothing but its own files (and optionally pinned keys).

    Each checkpoint verifies with the key of its key id, from the export's key list (one key,
    ``audit_public_key.pem``, before format 3). Pinned keys (one PEM, or several) are then
    the only keys accepted: an export or checkpoint signed by another key is refused.
    Raises :class:`IntegrityError` when the export's files themselves are damaged; returns a
    report naming the first bad sequence number when the events are.
    """
    folder = Path(folder)
    manifest = _read_json(folder / MANIFEST)
    try:
        key_pem = (folder / PUBLIC_KEY).read_bytes()
    except OSError as exc:
        raise IntegrityError(f"{folder} is not a readable audit export: {exc}") from exc
    shipped = load_public_pem(key_pem, str(folder / PUBLIC_KEY))
    pins = _pinned(pinned_public_pem)
    # A pinned key is used itself, not the export's copy of it.
    public = pins.get(key_id_of(shipped), shipped)
    if pins and key_id_of(shipped) not in pins:
        raise IntegrityError(f"{folder / PUBLIC_KEY}: the export carries audit key "
                             f"{key_id_of(shipped)}, not the pinned key "
                             f"{', '.join(sorted(pins))}: it was signed again with another key")
    if not isinstance(manifest, dict) or manifest.get("format") not in FORMATS:
        raise IntegrityError(f"{folder / MANIFEST}: not a PlantML audit export manifest")
    signed = {k: v for k, v in manifest.items() if k != "signature"}
    if not verify_signature(public, str(manifest.get("signature", "")), canonical_bytes(signed)):
        raise IntegrityError(f"{folder / MANIFEST}: the manifest signature does not verify with "
                             "the audit key")
    _check_files(folder, manifest)
    ring = _ring(folder, manifest["format"], shipped, pins)
    checkpoints = [checkpoint_from_json(_read_json(folder / CHECKPOINT))]
    expected = None
    if manifest["format"] != FORMAT_V1:
        checkpoints += _checkpoint_lines(folder / CHECKPOINTS)
        expected = Expected(interval=int(manifest["checkpoint_interval"]),
                            every=int(manifest.get("checkpoint_every", 0)))
    report = verify_rows(_export_rows(folder / EVENTS_JSONL, expected), checkpoints, ring,
                         require_checkpoint_at_end=True, expected=expected, anchors=anchors,
                         newer_anchors_ok=True)
    if report.ok and report.last_seq != manifest.get("events"):
        return VerifyReport(ok=False, events_checked=report.last_seq, last_seq=report.last_seq,
                            first_bad_seq=report.last_seq + 1, key_id=report.key_id,
                            problem=f"the manifest lists {manifest.get('events')} events, "
                            f"{EVENTS_JSONL} holds {report.last_seq}")
    if expected is None:
        report.notes.append("an export from before PlantML 0.2: only its closing checkpoint "
                            "is there, so removed checkpoints cannot be noticed")
    if not pins:
        shown = ", ".join(f"{k} ({ring.workstations.get(k, '?')})" for k in sorted(ring.keys))
        report.notes.append(f"verified with the key(s) shipped in the export ({shown}); "
                            "compare them with the workstations' keys, or pass --key for each")
    return report


def _pinned(pems: bytes | Sequence[bytes] | None) -> dict[str, Ed25519PublicKey]:
    """Pinned keys by key id (none when nothing is pinned)."""
    if pems is None:
        return {}
    listed = [pems] if isinstance(pems, bytes) else list(pems)
    keys = [load_public_pem(pem, "the pinned key") for pem in listed]
    return {key_id_of(k): k for k in keys}


def _ring(folder: Path, fmt: str, shipped: Ed25519PublicKey,
          pins: dict[str, Ed25519PublicKey]) -> KeyRing:
    """The keys checkpoints may be signed with: the pinned ones if any, else the export's key
    list (format 3) or its one key; the manifest's signer is the primary either way."""
    own = key_id_of(shipped)
    listed = read_key_list(folder / KEYS) if fmt == FORMAT else []
    names = {k.key_id: k.workstation for k in listed}
    if listed and own not in names:
        raise IntegrityError(f"{folder / KEYS}: does not list the export's own audit key {own}")
    if pins:
        return KeyRing(pins, own, names, label="pinned")
    keys = {k.key_id: k.public for k in listed} or {own: shipped}
    return KeyRing(keys, own, names, label="export's")


def _check_files(folder: Path, manifest: dict) -> None:
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise IntegrityError(f"{folder / MANIFEST}: lists no files")
    for name, meta in files.items():
        path = folder / name
        if "/" in name or "\\" in name or not path.is_file():
            raise IntegrityError(f"{path}: listed in the manifest but missing")
        digest, length = _file_digest(path)
        if digest != meta["sha256"] or length != meta["length"]:
            raise IntegrityError(f"{path}: content differs from the manifest (changed or cut)")
    required = {EVENTS_JSONL, CHECKPOINT, PUBLIC_KEY}
    if manifest.get("format") != FORMAT_V1:
        required.add(CHECKPOINTS)
    if manifest.get("format") == FORMAT:
        required.add(KEYS)
    missing = sorted(required - set(files))
    if missing:
        raise IntegrityError(f"{folder / MANIFEST}: does not list {', '.join(missing)}")


def _checkpoint_lines(path: Path) -> list[Checkpoint]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            try:
                out.append(checkpoint_from_json(json.loads(line)))
            except (ValueError, KeyError, TypeError) as exc:
                raise IntegrityError(f"{path} line {line_no}: not a checkpoint") from exc
    return out


def _file_digest(path: Path) -> tuple[str, int]:
    hasher = hashlib.sha256()
    length = 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            hasher.update(chunk)
            length += len(chunk)
    return hasher.hexdigest(), length


def _export_rows(path: Path, expected: Expected | None
                 ) -> Iterator[tuple[int, str, str, str]]:
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            try:
                rec = json.loads(line)
                row = int(rec["seq"]), str(rec["body"]), str(rec["prev_hash"]), str(rec["hash"])
            except (ValueError, KeyError, TypeError) as exc:
                raise IntegrityError(f"{path} line {line_no}: not a valid event record") from exc
            if expected is not None and any(m in row[1] for m in _MARKERS):
                note_expected(expected, row[0], row[1])
            yield row


def note_expected(expected: Expected, seq: int, body: str) -> None:
    """Add ``seq`` to the sequences that must have a checkpoint, if its event is one that
    always gets one (parsed, since the marker text could sit inside a nested value)."""
    try:
        event = json.loads(body)
    except ValueError:
        return  # the chain walk names this row
    if event.get("action") in CHECKPOINTED_ACTIONS and event.get("result") == "ok":
        expected.at.add(seq)
