"""Verification of the audit trail, in a workspace or in an export, against signed checkpoints,
the checkpoints that must be there, and anchors kept outside the workspace."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app.audit.checkpoints import checkpoint_valid
from app.audit.expected import Expected
from app.audit.keyring import KeyRing, as_ring
from app.audit.scan import ScanResult, scan_database, scan_server, walk_rows
from app.core.records import Checkpoint, VerifyReport
from app.store.engine import Database


@dataclass(frozen=True)
class Anchor:
    """A checkpoint kept outside the workspace (an earlier export, a package, a controller)."""

    source: str
    checkpoint: Checkpoint


def verify_rows(rows: Iterable[tuple[int, str, str, str]], checkpoints: list[Checkpoint],
                public: Ed25519PublicKey | KeyRing, *, require_checkpoint_at_end: bool = False,
                expected: Expected | None = None, anchors: Sequence[Anchor] = (),
                newer_anchors_ok: bool = False) -> VerifyReport:
    """Verify chain ``rows`` (ordered by seq) and ``checkpoints`` signed by ``public`` (one
    key, or the ring of a shared registry's workstation keys).

    ``expected`` may still be filled while ``rows`` is consumed. With ``newer_anchors_ok``
    (an export, which may be older than an anchor) an anchor past the end is only noted.
    """
    ring = as_ring(public)
    by_seq, refused = _signed(checkpoints, ring)
    if refused is not None:
        return refused
    anchored, refused = _anchored(anchors, ring)
    if refused is not None:
        return refused
    scan = walk_rows(rows, set(by_seq) | {a.checkpoint.seq for a in anchored})
    return _judge(scan, by_seq, anchored, ring.primary, require_checkpoint_at_end,
                  expected, newer_anchors_ok)


def verify_database(db: Database | Path, checkpoints: list[Checkpoint],
                    public: Ed25519PublicKey | KeyRing, *, workers: int = 1,
                    expected: Expected | None = None,
                    anchors: Sequence[Anchor] = ()) -> VerifyReport:
    """Verify the chain stored in the registry ``db`` (a SQLite file or a PostgreSQL
    server); see :func:`scan_database` for ``workers`` (SQLite only)."""
    ring = as_ring(public)
    by_seq, refused = _signed(checkpoints, ring)
    if refused is not None:
        return refused
    anchored, refused = _anchored(anchors, ring)
    if refused is not None:
        return refused
    want = set(by_seq) | {a.checkpoint.seq for a in anchored}
    path = db.path if isinstance(db, Database) else Path(db)
    if isinstance(db, Database) and path is None:
        with db.connection() as conn:
            scan = scan_server(conn, want)
    else:
        assert path is not None
        scan = scan_database(path, want, workers=workers)
    return _judge(scan, by_seq, anchored, ring.primary, False, expected, False)


def _failed(key_id: str, seq: int, problem: str, checked: int = 0) -> VerifyReport:
    return VerifyReport(ok=False, events_checked=checked, last_seq=checked, first_bad_seq=seq,
                        problem=problem, key_id=key_id)


def _signed(checkpoints: list[Checkpoint], ring: KeyRing
            ) -> tuple[dict[int, Checkpoint], VerifyReport | None]:
    """Checkpoints by sequence number, or a failed report if one is not genuinely signed
    by a key of the ring (each workstation signs with its own)."""
    key_id = ring.primary
    by_seq: dict[int, Checkpoint] = {}
    for cp in sorted(checkpoints, key=lambda c: c.seq):
        public = ring.get(cp.key_id)
        if public is None or not checkpoint_valid(cp, public):
            # Name the key the checkpoint claims: on a shared registry it tells which
            # workstation's key is missing from the pinned or listed ones.
            why = (f"it names audit key {cp.key_id}" if public is None else
                   f"its signature does not verify with audit key {cp.key_id}")
            return by_seq, _failed(key_id, cp.seq, f"the checkpoint at sequence {cp.seq} is not "
                                   f"signed by {ring.describe()} ({why})")
        other = by_seq.get(cp.seq)
        if other is not None and other.head_hash != cp.head_hash:
            return by_seq, _failed(key_id, cp.seq,
                                   f"two signed checkpoints disagree at sequence {cp.seq}")
        by_seq[cp.seq] = cp
    return by_seq, None


def _anchored(anchors: Sequence[Anchor], ring: KeyRing
              ) -> tuple[list[Anchor], VerifyReport | None]:
    """Anchors whose signature holds; a failed report for the first that does not, since an
    anchor signed by another key means the trail is now signed by a replaced key."""
    key_id = ring.primary
    good: list[Anchor] = []
    for anchor in sorted(anchors, key=lambda a: a.checkpoint.seq):
        cp = anchor.checkpoint
        public = ring.get(cp.key_id)
        if public is None:
            return good, _failed(key_id, cp.seq, f"{anchor.source}: its checkpoint at sequence "
                                 f"{cp.seq} was signed by audit key {cp.key_id}, the trail is "
                                 f"signed by {key_id}: the audit key was replaced (or the "
                                 "anchor is from another workstation)")
        if not checkpoint_valid(cp, public):
            return good, _failed(key_id, cp.seq, f"{anchor.source}: its checkpoint at sequence "
                                 f"{cp.seq} does not verify with audit key {key_id}")
        good.append(anchor)
    return good, None


def _judge(scan: ScanResult, by_seq: dict[int, Checkpoint], anchors: list[Anchor], key_id: str,
           require_checkpoint_at_end: bool, expected: Expected | None,
           newer_anchors_ok: bool) -> VerifyReport:
    """Turn a chain walk, the signed checkpoints and the anchors into the report.

    Checkpoints catch what the chain alone cannot: a cut tail and a chain recomputed by
    someone without the audit key. The expected positions catch checkpoints that were
    deleted; anchors catch what someone holding (or replacing) the key rewrote.
    """
    if scan.bad_seq is not None:
        return VerifyReport(ok=False, events_checked=max(scan.bad_seq - 1, 0),
                            last_seq=scan.bad_seq - 1, first_bad_seq=scan.bad_seq,
                            problem=scan.problem, key_id=key_id)
    last_seq = scan.last_seq
    covered = 0
    for seq in sorted(by_seq):
        if seq > last_seq:
            return _failed(key_id, last_seq + 1, f"the chain ends at {last_seq} but a signed "
                           f"checkpoint vouches for {seq} events: the tail was cut", last_seq)
        if scan.heads[seq] != by_seq[seq].head_hash:
            return _failed(key_id, covered + 1, f"the chain up to {seq} differs from the signed "
                           f"checkpoint: events after {covered} were altered and the chain "
                           "recomputed", last_seq)
        covered = seq
    notes: list[str] = []
    problem, compared = _check_anchors(scan, anchors, last_seq, newer_anchors_ok, notes, key_id)
    if problem is not None:
        return _failed(key_id, problem[0], problem[1], last_seq)
    if expected is not None:
        problem = _check_expected(sorted(by_seq), expected, last_seq)
        if problem is not None:
            return _failed(key_id, problem[0], problem[1], last_seq)
    if require_checkpoint_at_end and covered != last_seq:
        return _failed(key_id, covered + 1, f"the export's closing checkpoint covers {covered} "
                       f"events, the file holds {last_seq}", last_seq)
    report = VerifyReport(ok=True, events_checked=last_seq, last_seq=last_seq,
                          checkpoint_seq=covered or None, unsigned_tail=last_seq - covered,
                          # The key of the newest checkpoint (another workstation's, maybe).
                          key_id=by_seq[covered].key_id if covered else key_id, notes=notes)
    if not by_seq and last_seq:
        report.notes.append("no signed checkpoint yet: only the hash chain protects these events")
    if compared:
        report.notes.append(f"{compared} anchor(s) kept outside agree with the trail")
    return report


def _check_anchors(scan: ScanResult, anchors: list[Anchor], last_seq: int,
                   newer_ok: bool, notes: list[str], key_id: str
                   ) -> tuple[tuple[int, str] | None, int]:
    compared = 0
    for anchor in anchors:
        cp = anchor.checkpoint
        if cp.seq > last_seq:
            if newer_ok:
                notes.append(f"{anchor.source}: its checkpoint at {cp.seq} is newer than this "
                             f"trail (ends at {last_seq}); not compared")
                continue
            return (last_seq + 1, f"the chain ends at {last_seq} but {anchor.source} holds a "
                    f"checkpoint for {cp.seq} events: the tail was cut"), compared
        if scan.heads.get(cp.seq) != cp.head_hash:
            # On a shared registry an anchor may come from another workstation; one from
            # this workstation's earlier key means that key was replaced.
            replaced = "" if cp.key_id == key_id else (
                f" (the anchor is signed by audit key {cp.key_id}, the trail by {key_id}: "
                "the audit key was replaced, or the anchor is another workstation's)")
            return (cp.seq, f"the chain up to {cp.seq} differs from the checkpoint in "
                    f"{anchor.source}: the trail was rewritten and signed again{replaced}"
                    ), compared
        compared += 1
    return None, compared


def _check_expected(present: list[int], expected: Expected, last_seq: int
                    ) -> tuple[int, str] | None:
    have = set(present)
    for seq in sorted(expected.at):
        if seq <= last_seq and seq not in have:
            return seq, (f"the signed checkpoint every export, approval and security change "
                         f"gets is missing at sequence {seq}: checkpoints were removed")
    every = expected.every
    if 0 < every <= last_seq:
        for seq in range(every, last_seq + 1, every):
            if seq not in have:
                return seq, (f"the signed checkpoint written every {every} events is missing at "
                             f"sequence {seq}: checkpoints were removed")
    interval = max(1, expected.interval)
    previous = 0
    for seq in [*present, last_seq + interval + 1]:
        if seq - previous > interval and previous + interval <= last_seq:
            return previous + interval, (
                f"no signed checkpoint between sequence {previous + 1} and "
                f"{min(seq - 1, last_seq)}, though one is written at least every {interval} "
                "events: checkpoints were removed")
        previous = seq
    return None
