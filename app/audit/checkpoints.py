"""Signed checkpoints: the audit key's statement that the chain up to ``seq`` ends in a hash."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.keys import AuditKey, verify_signature
from app.core.canonical import canonical_bytes
from app.core.records import Checkpoint
from app.store.durable import durable_write
from app.store.schema import AuditCheckpointRow

log = logging.getLogger(__name__)

PURPOSE = "plantml-audit-checkpoint-v1"


def checkpoint_message(seq: int, head_hash: str, ts: str, workstation: str, key_id: str) -> bytes:
    """The exact bytes a checkpoint signature covers."""
    return canonical_bytes({"purpose": PURPOSE, "seq": seq, "head_hash": head_hash, "ts": ts,
                            "workstation": workstation, "key_id": key_id})


def make_checkpoint(key: AuditKey, seq: int, head_hash: str, ts: str,
                    workstation: str) -> Checkpoint:
    """Sign the chain head ``head_hash`` at ``seq``."""
    sig = key.sign(checkpoint_message(seq, head_hash, ts, workstation, key.key_id))
    return Checkpoint(seq=seq, head_hash=head_hash, ts=ts, workstation=workstation,
                      key_id=key.key_id, signature=sig)


def checkpoint_valid(cp: Checkpoint, public: Ed25519PublicKey) -> bool:
    """True if ``cp`` carries a valid signature by ``public``."""
    msg = checkpoint_message(cp.seq, cp.head_hash, cp.ts, cp.workstation, cp.key_id)
    return verify_signature(public, cp.signature, msg)


def store_checkpoint(session: Session, cp: Checkpoint) -> None:
    """Insert ``cp`` into the database (same transaction as the event it covers)."""
    if session.get(AuditCheckpointRow, cp.seq) is None:
        session.add(AuditCheckpointRow(seq=cp.seq, head_hash=cp.head_hash, ts=cp.ts,
                                       workstation=cp.workstation, key_id=cp.key_id,
                                       signature=cp.signature))


def stored_checkpoints(session: Session) -> list[Checkpoint]:
    """All checkpoints in the database, oldest first."""
    rows = session.scalars(select(AuditCheckpointRow).order_by(AuditCheckpointRow.seq))
    return [Checkpoint(seq=r.seq, head_hash=r.head_hash, ts=r.ts, workstation=r.workstation,
                       key_id=r.key_id, signature=r.signature) for r in rows]


def checkpoint_to_json(cp: Checkpoint) -> dict:
    """A checkpoint as a JSON object."""
    return {"purpose": PURPOSE, "seq": cp.seq, "head_hash": cp.head_hash, "ts": cp.ts,
            "workstation": cp.workstation, "key_id": cp.key_id, "signature": cp.signature}


def checkpoint_from_json(data: dict) -> Checkpoint:
    """Parse :func:`checkpoint_to_json` output; raises KeyError or TypeError if malformed."""
    return Checkpoint(seq=int(data["seq"]), head_hash=str(data["head_hash"]), ts=str(data["ts"]),
                      workstation=str(data["workstation"]), key_id=str(data["key_id"]),
                      signature=str(data["signature"]))


def write_latest_file(path: Path, cp: Checkpoint) -> None:
    """Keep a copy of the newest checkpoint outside the database, so deleting checkpoint
    rows from the database file is noticed. Best effort: the database copy is the record."""
    try:
        durable_write(path, json.dumps(checkpoint_to_json(cp), indent=2).encode("utf-8"))
    except OSError as exc:
        log.warning("could not update %s: %s", path, exc)


def read_latest_file(path: Path) -> Checkpoint | None:
    """The checkpoint copy outside the database, or None if there is none or it is unreadable."""
    try:
        return checkpoint_from_json(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable checkpoint copy %s: %s", path, exc)
        return None

