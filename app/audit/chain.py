"""The hash chain: how an event becomes a row and how each row's hash is computed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from app.core.canonical import canonical_json
from app.core.records import AuditEvent

GENESIS = "0" * 64
FIELDS = ("ts", "utc_offset_min", "user", "role", "workstation", "action", "object",
          "old", "new", "reason", "result")


def event_body(*, ts: datetime, user: str, role: str, workstation: str, action: str,
               obj: str, old: Any, new: Any, reason: str, result: str) -> str:
    """Canonical JSON of one event, the bytes that are hashed and stored."""
    offset = ts.utcoffset()
    return canonical_json({
        "ts": ts.isoformat(timespec="microseconds"),
        "utc_offset_min": int(offset.total_seconds() // 60) if offset is not None else 0,
        "user": user,
        "role": role,
        "workstation": workstation,
        "action": action,
        "object": obj,
        "old": old,
        "new": new,
        "reason": reason,
        "result": result,
    })


def chain_hash(seq: int, prev_hash: str, body: str) -> str:
    """SHA-256 over the sequence number, the previous hash and the body.

    Binding ``seq`` means a row moved to another position no longer matches.
    """
    return hashlib.sha256(f"{seq}\n{prev_hash}\n{body}".encode()).hexdigest()


def to_event(seq: int, body: str, prev_hash: str, hash_: str) -> AuditEvent:
    """Decode a stored row into a record."""
    data = json.loads(body)
    return AuditEvent(seq=seq, ts=data["ts"], utc_offset_min=data["utc_offset_min"],
                      user=data["user"], role=data["role"], workstation=data["workstation"],
                      action=data["action"], object=data["object"], old=data["old"],
                      new=data["new"], reason=data["reason"], result=data["result"],
                      prev_hash=prev_hash, hash=hash_)


class ChainBreak(Exception):
    """Where and why a chain stops verifying."""

    def __init__(self, seq: int, problem: str) -> None:
        super().__init__(problem)
        self.seq = seq
        self.problem = problem


def walk_chain(rows: Iterable[tuple[int, str, str, str]], want: set[int] | None = None, *,
               start_seq: int = 1, start_prev: str = GENESIS) -> Iterator[tuple[int, str]]:
    """Check rows ``(seq, body, prev_hash, hash)`` in order, starting at ``start_seq`` whose
    predecessor's hash is ``start_prev``; yields ``(seq, hash)`` for the sequence numbers in
    ``want`` and finally ``(last_seq, last_hash)`` once more.

    Raises :class:`ChainBreak` at the first row that does not verify.
    """
    expected_seq = start_seq
    prev = start_prev
    sha = hashlib.sha256
    want = want or set()
    for seq, body, prev_hash, hash_ in rows:
        if seq != expected_seq:
            if seq > expected_seq:
                raise ChainBreak(expected_seq, f"events {expected_seq} to {seq - 1} are missing")
            raise ChainBreak(seq, f"sequence {seq} appears out of order or twice")
        if prev_hash != prev:
            raise ChainBreak(seq, "the link to the previous event does not match "
                             "(an event before it was changed, removed or reordered)")
        if sha(f"{seq}\n{prev_hash}\n{body}".encode()).hexdigest() != hash_:
            raise ChainBreak(seq, "the event's content does not match its hash "
                             "(the row was altered)")
        if seq in want:
            yield seq, hash_
        prev = hash_
        expected_seq += 1
    yield expected_seq - 1, prev
