#!/usr/bin/env python3
"""Standalone verifier of a PlantML audit export (docs/audit-export.md), for auditors.

Needs Python 3.9+ and the 'cryptography' package, nothing of PlantML:
    python plantml_audit_verify.py EXPORT_FOLDER [--key KEY.pem]... [--anchor CHECKPOINT.json]...
A checkpoint verifies with the key of its key id in the export's key list; keys pinned with
--key (one per workstation) are then the only ones accepted.
Exit status: 0 intact, 1 broken or tampered, 2 unusable input.
"""

import argparse
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMATS = ("plantml-audit-export-v1", "plantml-audit-export-v2", "plantml-audit-export-v3")
KEYS = "audit_public_keys.json"
PURPOSE = "plantml-audit-checkpoint-v1"
CHECKPOINTED = ("audit.export", "model.approve", "security.state")


class Broken(Exception):
    """The export does not verify; the message says where."""


def canonical(value) -> bytes:
    """Sorted keys, no whitespace, UTF-8, no NaN: the bytes every signature covers."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def load_key(pem: bytes, where):
    """Key id, Ed25519 key and fingerprint of PEM bytes (the id: the fingerprint's start)."""
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise Broken(f"{where} is not an Ed25519 public key")
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16], key, hashlib.sha256(raw).hexdigest()


def key_list(folder: Path) -> dict:
    """Key id -> key of the export's list, refusing an entry whose key was swapped."""
    keys = {}
    for entry in json.loads((folder / KEYS).read_text(encoding="utf-8")):
        key_id, key, fingerprint = load_key(entry["public_key"].encode(), KEYS)
        if (entry["key_id"], entry["fingerprint"]) != (key_id, fingerprint):
            raise Broken(f"{KEYS}: the entry for audit key {entry['key_id']} holds another "
                         f"public key ({key_id}): the key list was altered")
        keys[entry["key_id"]] = key
    return keys


def signed_by(key, signature_hex: str, message: bytes) -> bool:
    try:
        key.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def check_checkpoint(cp: dict, keys: dict, whose: str, where: str) -> None:
    fields = ("seq", "head_hash", "ts", "workstation", "key_id")
    key = keys.get(cp.get("key_id"))
    if key is None:
        raise Broken(f"{where}: checkpoint at {cp.get('seq')} is signed by key "
                     f"{cp.get('key_id')}, which is not {whose} ({', '.join(sorted(keys))}): "
                     "the audit key was replaced, or a workstation's key is missing")
    message = canonical(dict({f: cp[f] for f in fields}, purpose=PURPOSE))
    if not signed_by(key, cp["signature"], message):
        raise Broken(f"{where}: checkpoint at {cp['seq']} has a bad signature (key {cp['key_id']})")


def walk(events: Path, heads: dict, marked: set) -> int:
    """Check every event's sequence number, link and hash; returns the last sequence."""
    prev, expected = "0" * 64, 1
    with open(events, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            try:
                rec = json.loads(line)
                seq, body, link, digest = rec["seq"], rec["body"], rec["prev_hash"], rec["hash"]
            except (ValueError, KeyError, TypeError):
                raise Broken(f"{events.name} line {line_no}: not an event record") from None
            if seq != expected:
                raise Broken(f"event {expected}: missing, moved or repeated (found {seq})")
            if link != prev:
                raise Broken(f"event {seq}: its link does not match the event before it")
            if hashlib.sha256(f"{seq}\n{link}\n{body}".encode()).hexdigest() != digest:
                raise Broken(f"event {seq}: its content does not match its hash")
            event = json.loads(body)
            if event.get("action") in CHECKPOINTED and event.get("result") == "ok":
                marked.add(seq)
            heads[seq], prev, expected = digest, digest, expected + 1
    return expected - 1


def verify(folder: Path, pinned=(), anchors=()) -> list:
    """Raise Broken at the first problem; return notes for an intact export."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") not in FORMATS:
        raise Broken("manifest.json: not a PlantML audit export")
    key_id, key, _ = load_key((folder / "audit_public_key.pem").read_bytes(), "the export's key")
    pins = dict(load_key(Path(path).read_bytes(), path)[:2] for path in pinned)
    if pins and key_id not in pins:
        raise Broken(f"the export carries key {key_id}, not the pinned key {', '.join(pins)}")
    key = pins.get(key_id, key)
    signed = {k: v for k, v in manifest.items() if k != "signature"}
    if not signed_by(key, manifest.get("signature", ""), canonical(signed)):
        raise Broken("manifest.json: the signature does not verify")
    v2, v3 = manifest["format"] in FORMATS[1:], manifest["format"] == FORMATS[2]
    needed = {"events.jsonl", "checkpoint.json", "audit_public_key.pem"}
    needed |= ({"checkpoints.jsonl"} if v2 else set()) | ({KEYS} if v3 else set())
    unlisted = sorted(needed - set(manifest["files"]))
    if unlisted:
        raise Broken(f"manifest.json does not list {', '.join(unlisted)}")
    for name, meta in manifest["files"].items():
        path = folder / name
        if "/" in name or "\\" in name or not path.is_file():
            raise Broken(f"{name}: listed in the manifest but missing")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != meta["sha256"] or len(data) != meta["length"]:
            raise Broken(f"{name}: differs from the manifest (changed or cut)")
    # Pinned keys, else the list (or the one key of older formats), sign the checkpoints.
    keys = pins or (key_list(folder) if v3 else {key_id: key})
    whose = "pinned" if pins else "in the export's key list"
    notes = [] if pins else [f"checked with the export's key(s) {', '.join(sorted(keys))}: "
                             "compare them with the workstations', or pass --key for each"]
    heads, marked = {}, set()
    last = walk(folder / "events.jsonl", heads, marked)
    checkpoints = [closing := json.loads((folder / "checkpoint.json").read_text(encoding="utf-8"))]
    text = (folder / "checkpoints.jsonl").read_text(encoding="utf-8") if v2 else ""
    checkpoints += [json.loads(line) for line in text.splitlines() if line.strip()]
    for cp in checkpoints:
        check_checkpoint(cp, keys, whose, "the export")
        if cp["seq"] > last:
            raise Broken(f"a checkpoint vouches for {cp['seq']} events, the file ends at {last}:"
                         " the tail was cut")
        if heads.get(cp["seq"]) != cp["head_hash"]:
            raise Broken(f"the chain up to {cp['seq']} differs from its signed checkpoint")
    if closing["seq"] != last or manifest["events"] != last:
        raise Broken(f"the closing checkpoint covers {closing['seq']} events, the manifest says "
                     f"{manifest['events']}, the file holds {last}")
    if v2:
        seqs = {cp["seq"] for cp in checkpoints}
        missing = sorted(marked - seqs)
        if missing:
            raise Broken(f"the checkpoint at event {missing[0]} (an export, approval or seal) "
                         "is missing: checkpoints were removed")
        every = int(manifest.get("checkpoint_every", 0))
        for seq in range(every, last + 1, every) if every else ():
            if seq not in seqs:
                raise Broken(f"the checkpoint written every {every} events is missing at "
                             f"event {seq}: checkpoints were removed")
        interval, previous = int(manifest["checkpoint_interval"]), 0
        for seq in [*sorted(seqs), last + interval + 1]:
            if seq - previous > interval and previous + interval <= last:
                raise Broken(f"no checkpoint from event {previous + 1} to {min(seq - 1, last)}, "
                             f"though one is written every {interval}: checkpoints were removed")
            previous = seq
    else:
        notes.append("an export of the first format: removed checkpoints cannot be noticed")
    for anchor in anchors:
        cp = json.loads(Path(anchor).read_text(encoding="utf-8"))
        check_checkpoint(cp, keys, whose, str(anchor))
        if cp["seq"] > last:
            notes.append(f"{anchor}: newer than this export (event {cp['seq']}), not compared")
        elif heads.get(cp["seq"]) != cp["head_hash"]:
            raise Broken(f"{anchor}: the chain up to {cp['seq']} differs: it was rewritten")
    notes.insert(0, f"intact: {last} events, closing checkpoint at {closing['seq']}, key {key_id}")
    return notes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Verify a PlantML audit export.")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--key", type=Path, action="append", default=[],
                        help="a workstation's public key (PEM) to pin (repeatable)")
    parser.add_argument("--anchor", type=Path, action="append", default=[],
                        help="a checkpoint JSON file kept elsewhere (repeatable)")
    args = parser.parse_args(argv)
    try:
        for note in verify(args.folder, args.key, args.anchor):
            print(note)
        return 0
    except Broken as exc:
        print(f"BROKEN: {exc}")
        return 1
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"cannot verify {args.folder}: {exc!r}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
