"""Verification of the audit trail, in a workspace or in an export, against signed checkpoints."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.audit.checkpoints import checkpoint_valid
from app.audit.keys import key_id_of
from app.audit.scan import ScanResult, scan_database, walk_rows
from app.core.records import Checkpoint, VerifyReport


def verify_rows(rows: Iterable[tuple[int, str, str, str]], checkpoints: list[Checkpoint],
                public: Ed25519PublicKey, *, require_checkpoint_at_end: bool = False
                ) -> VerifyReport:
    """Verify chain ``rows`` (ordered by seq) and ``checkpoints`` signed by ``public``."""
    by_seq, refused = _signed(checkpoints, public)
    if refused is not None:
        return refused
    scan = walk_rows(rows, set(by_seq))
    return _judge(scan, by_seq, key_id_of(public), require_checkpoint_at_end)


def verify_database(db_path: Path, checkpoints: list[Checkpoint], public: Ed25519PublicKey,
                    *, workers: int = 1) -> VerifyReport:
    """Verify the chain stored in the SQLite file ``db_path``; see :func:`scan_database`
    for ``workers``."""
    by_seq, refused = _signed(checkpoints, public)
    if refused is not None:
        return refused
    scan = scan_database(db_path, set(by_seq), workers=workers)
    return _judge(scan, by_seq, key_id_of(public), False)


def _signed(checkpoints: list[Checkpoint], public: Ed25519PublicKey
            ) -> tuple[dict[int, Checkpoint], VerifyReport | None]:
    """Checkpoints by sequence number, or a failed report if one is not genuinely signed."""
    key_id = key_id_of(public)
    by_seq: dict[int, Checkpoint] = {}
    for cp in sorted(checkpoints, key=lambda c: c.seq):
        if cp.key_id != key_id or not checkpoint_valid(cp, public):
            return by_seq, VerifyReport(
                ok=False, events_checked=0, last_seq=0, first_bad_seq=cp.seq,
                problem=f"the checkpoint at sequence {cp.seq} is not signed by the audit key "
                f"{key_id}", key_id=key_id)
        other = by_seq.get(cp.seq)
        if other is not None and other.head_hash != cp.head_hash:
            return by_seq, VerifyReport(
                ok=False, events_checked=0, last_seq=0, first_bad_seq=cp.seq,
                problem=f"two signed checkpoints disagree at sequence {cp.seq}", key_id=key_id)
        by_seq[cp.seq] = cp
    return by_seq, None


def _judge(scan: ScanResult, by_seq: dict[int, Checkpoint], key_id: str,
           require_checkpoint_at_end: bool) -> VerifyReport:
    """Turn a chain walk and the signed checkpoints into the report.

    Checkpoints catch what the chain alone cannot: a cut tail and a chain recomputed by
    someone without the audit key.
    """
    if scan.bad_seq is not None:
        return VerifyReport(ok=False, events_checked=max(scan.bad_seq - 1, 0),
                            last_seq=scan.bad_seq - 1, first_bad_seq=scan.bad_seq,
                            problem=scan.problem, key_id=key_id)
    last_seq = scan.last_seq
    covered = 0
    for seq in sorted(by_seq):
        if seq > last_seq:
            return VerifyReport(
                ok=False, events_checked=last_seq, last_seq=last_seq, first_bad_seq=last_seq + 1,
                problem=f"the chain ends at {last_seq} but a signed checkpoint vouches for "
                f"{seq} events: the tail was cut", key_id=key_id)
        if scan.heads[seq] != by_seq[seq].head_hash:
            return VerifyReport(
                ok=False, events_checked=last_seq, last_seq=last_seq, first_bad_seq=covered + 1,
                problem=f"the chain up to {seq} differs from the signed checkpoint: events after "
                f"{covered} were altered and the chain recomputed", key_id=key_id)
        covered = seq
    if require_checkpoint_at_end and covered != last_seq:
        return VerifyReport(
            ok=False, events_checked=last_seq, last_seq=last_seq, first_bad_seq=covered + 1,
            problem=f"the export's closing checkpoint covers {covered} events, the file holds "
            f"{last_seq}", key_id=key_id)
    report = VerifyReport(ok=True, events_checked=last_seq, last_seq=last_seq,
                          checkpoint_seq=covered or None, unsigned_tail=last_seq - covered,
                          key_id=key_id)
    if not by_seq and last_seq:
        report.notes.append("no signed checkpoint yet: only the hash chain protects these events")
    return report
