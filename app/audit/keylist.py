"""The list of audit public keys an export carries (``audit_public_keys.json``): every key
that signed a checkpoint in the exported range, so a trail written by several workstations
of a shared registry verifies offline (docs/audit-export.md)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.audit.keys import fingerprint_of, key_id_of, load_public_pem, public_pem
from app.core.errors import IntegrityError
from app.core.records import Checkpoint

KEYS = "audit_public_keys.json"


@dataclass(frozen=True)
class ListedKey:
    """One workstation's public audit key as the export lists it."""

    key_id: str
    workstation: str
    public: Ed25519PublicKey

    @property
    def fingerprint(self) -> str:
        """SHA-256 (hex) of the raw public key; its first 16 digits are the key id."""
        return fingerprint_of(self.public)


def signer_keys(checkpoints: Iterable[Checkpoint], known: Mapping[str, Ed25519PublicKey],
                names: Mapping[str, str], own: ListedKey) -> list[ListedKey]:
    """The keys that signed ``checkpoints``, found in ``known`` (the registry's trusted
    keys), this workstation's ``own`` first; a key the registry does not know is left out,
    so the export fails verification naming it, as the registry's own check does."""
    out = {own.key_id: own}
    for cp in checkpoints:
        public = known.get(cp.key_id)
        if cp.key_id not in out and public is not None:
            out[cp.key_id] = ListedKey(cp.key_id, names.get(cp.key_id, cp.workstation), public)
    return [own, *sorted((k for k in out.values() if k is not own), key=lambda k: k.key_id)]


def key_list_bytes(keys: Iterable[ListedKey]) -> bytes:
    """The file's bytes: a JSON list of ``{key_id, fingerprint, workstation, public_key}``,
    ``public_key`` being the SubjectPublicKeyInfo PEM text."""
    doc = [{"key_id": k.key_id, "fingerprint": k.fingerprint, "workstation": k.workstation,
            "public_key": public_pem(k.public).decode("ascii")} for k in keys]
    return (json.dumps(doc, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def read_key_list(path: Path) -> list[ListedKey]:
    """Parse the list; IntegrityError naming the entry whose id or fingerprint is not that
    of its public key (a key swapped in the list)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        entries = [(str(e["key_id"]), str(e["fingerprint"]), str(e["workstation"]),
                    str(e["public_key"])) for e in doc]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise IntegrityError(f"{path} is not a readable list of audit keys: {exc}") from exc
    out: list[ListedKey] = []
    for key_id, fingerprint, workstation, pem in entries:
        public = load_public_pem(pem.encode("ascii", "replace"), f"{path}: audit key {key_id}")
        if key_id_of(public) != key_id or fingerprint_of(public) != fingerprint:
            raise IntegrityError(f"{path}: the entry for audit key {key_id} ({workstation}) "
                                 f"holds another public key ({key_id_of(public)}): the key "
                                 "list was altered")
        out.append(ListedKey(key_id, workstation, public))
    return out
