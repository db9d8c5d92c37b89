"""Plain records the services return (never ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.core.roles import Role


@dataclass(frozen=True)
class UserInfo:
    """A local account as shown to administrators."""

    user_id: int
    username: str
    roles: tuple[Role, ...]
    locked: bool
    failed_attempts: int
    created_at: datetime


@dataclass(frozen=True)
class AuditEvent:
    """One row of the audit trail."""

    seq: int
    ts: str
    utc_offset_min: int
    user: str
    role: str
    workstation: str
    action: str
    object: str
    old: Any
    new: Any
    reason: str
    result: str
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the chain up to ``seq`` ends in ``head_hash``."""

    seq: int
    head_hash: str
    ts: str
    workstation: str
    key_id: str
    signature: str


@dataclass
class VerifyReport:
    """What :func:`verify` found; ``ok`` is False as soon as one problem was found."""

    ok: bool
    events_checked: int
    last_seq: int
    first_bad_seq: int | None = None
    problem: str = ""
    checkpoint_seq: int | None = None
    unsigned_tail: int = 0
    key_id: str = ""
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph a person can read."""
        if not self.ok:
            where = f" at sequence {self.first_bad_seq}" if self.first_bad_seq is not None else ""
            return f"AUDIT TRAIL BROKEN{where}: {self.problem}"
        text = f"audit trail intact: {self.events_checked} events, last sequence {self.last_seq}"
        if self.checkpoint_seq is not None:
            text += f"; signed checkpoint at {self.checkpoint_seq} (key {self.key_id})"
        if self.unsigned_tail:
            text += (f"; {self.unsigned_tail} events after the last checkpoint are covered by "
                     "the hash chain only, not yet by a signature")
        return text


@dataclass(frozen=True)
class Signature:
    """An electronic signature over the hash of a record."""

    signature_id: int
    username: str
    meaning: str
    reason: str
    record_type: str
    record_id: str
    record_hash: str
    signed_at: str
    key_id: str
    signature: str


@dataclass(frozen=True)
class ChannelInfo:
    """One measured quantity of a dataset: its physical unit and how the values were scaled
    to it (a tag map's "register value x 0.001", or what the import was told)."""

    name: str
    unit: str = ""
    scale: str = ""


@dataclass(frozen=True)
class RecordingInfo:
    """One contiguous recording inside a dataset snapshot.

    ``condition`` is the operating condition it was taken in ("load=0hp", "speed=1500rpm",
    a machine, a day); validation holds each condition out in turn. '' when none was given.
    """

    index: int
    name: str
    n_samples: int
    label: str = ""
    interrupted: bool = False
    start_time: str = ""
    condition: str = ""


@dataclass(frozen=True)
class LabelInfo:
    """A label on a recording, optionally limited to ``[t_start, t_end)`` seconds."""

    recording: int
    label: str
    t_start: float | None = None
    t_end: float | None = None
    created_by: str = ""
    created_at: str = ""
    id: int = 0  # the label's id in the registry, to withdraw it by (0: not stored yet)


@dataclass(frozen=True)
class DatasetInfo:
    """An immutable dataset snapshot, named by the SHA-256 of its Parquet file."""

    dataset_id: str
    name: str
    sample_rate: float
    channels: tuple[ChannelInfo, ...]
    recordings: tuple[RecordingInfo, ...]
    provenance: dict
    size_bytes: int
    created_at: str
    created_by: str
    labels: tuple[LabelInfo, ...] = ()

    @property
    def n_samples(self) -> int:
        """Samples per channel over all recordings."""
        return sum(r.n_samples for r in self.recordings)

    @property
    def duration_s(self) -> float:
        """Total recorded time in seconds."""
        return self.n_samples / self.sample_rate if self.sample_rate else 0.0


@dataclass(frozen=True)
class ModelLineInfo:
    """A line of versions and its aliases."""

    name: str
    kind: str
    versions: int
    latest_version: int
    aliases: dict[str, int]
    release_counter: int
