"""Verification of the audit trail, in a workspace or in an export, against signed checkpoints."""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.audit.chain import ChainBreak, walk_chain
from app.audit.checkpoints import checkpoint_valid
from app.audit.keys import key_id_of
from app.core.records import Checkpoint, VerifyReport


def verify_rows(rows: Iterable[tuple[int, str, str, str]], checkpoints: list[Checkpoint],
                public: Ed25519PublicKey, *, require_checkpoint_at_end: bool = False
                ) -> VerifyReport:
    """Verify chain ``rows`` (ordered by seq) and ``checkpoints`` signed by ``public``.

    The report names the first bad sequence number. Checkpoints catch what the chain alone
    cannot: a cut tail and a chain recomputed by someone without the audit key.
    """
    key_id = key_id_of(public)
    by_seq: dict[int, Checkpoint] = {}
    for cp in sorted(checkpoints, key=lambda c: c.seq):
        if cp.key_id != key_id or not checkpoint_valid(cp, public):
            return VerifyReport(ok=False, events_checked=0, last_seq=0, first_bad_seq=cp.seq,
                                problem=f"the checkpoint at sequence {cp.seq} is not signed by "
                                f"the audit key {key_id}", key_id=key_id)
        other = by_seq.get(cp.seq)
        if other is not None and other.head_hash != cp.head_hash:
            return VerifyReport(ok=False, events_checked=0, last_seq=0, first_bad_seq=cp.seq,
                                problem=f"two signed checkpoints disagree at sequence {cp.seq}",
                                key_id=key_id)
        by_seq[cp.seq] = cp
    heads: dict[int, str] = {}
    last_seq = 0
    try:
        for seq, digest in walk_chain(rows, set(by_seq)):
            heads[seq] = digest
            last_seq = seq
    except ChainBreak as brk:
        return VerifyReport(ok=False, events_checked=max(brk.seq - 1, 0), last_seq=brk.seq - 1,
                            first_bad_seq=brk.seq, problem=brk.problem, key_id=key_id)
    covered = 0
    for seq in sorted(by_seq):
        if seq > last_seq:
            return VerifyReport(
                ok=False, events_checked=last_seq, last_seq=last_seq, first_bad_seq=last_seq + 1,
                problem=f"the chain ends at {last_seq} but a signed checkpoint vouches for "
                f"{seq} events: the tail was cut", key_id=key_id)
        if heads[seq] != by_seq[seq].head_hash:
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
