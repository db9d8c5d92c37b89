"""Dataset use cases: create immutable snapshots, list and show them, label, load samples."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.errors import Conflict, IntegrityError, NotFound, StorageError, UsageError
from app.core.principal import Principal
from app.core.progress import NEVER_CANCELLED, CancelToken
from app.core.records import ChannelInfo, DatasetInfo, LabelInfo, RecordingInfo
from app.core.roles import Action, Role
from app.data.conditions import check_condition
from app.data.snapshot import SnapshotWriter, read_meta, read_recordings
from app.services.base import ServiceContext
from app.store.schema import DatasetLabelRow, DatasetRow


@dataclass(frozen=True)
class RecordingInput:
    """One recording handed to :meth:`DatasetService.create_from_arrays`."""

    name: str
    data: np.ndarray  # (channels, samples)
    label: str = ""
    interrupted: bool = False
    start_time: str = ""
    condition: str = ""  # operating condition, e.g. "load=0hp" ('' when not known)


class DatasetService:
    """Snapshots are written to the blob store first, then registered with their audit
    event in one transaction; a failure leaves no registered dataset."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def create(self, principal: Principal, *, action: Action, name: str,
               channels: list[ChannelInfo], sample_rate: float, provenance: dict,
               fill: Callable[[SnapshotWriter], None],
               cancel: CancelToken = NEVER_CANCELLED) -> DatasetInfo:
        """Register a new snapshot whose samples ``fill(writer)`` streams in.

        ``action`` is DATA_IMPORT, DATA_ACQUIRE or CONTROLLER_CAPTURE, whose role is checked
        first.
        """
        if action not in (Action.DATA_IMPORT, Action.DATA_ACQUIRE, Action.CONTROLLER_CAPTURE):
            raise UsageError(f"datasets are created by import, acquisition or capture, not "
                             f"{action}")
        if not name.strip():
            raise UsageError("give the dataset a name")
        role = self.ctx.authorize(principal, action, f"dataset:{name}")
        self.ctx.health.check_writable()
        tmp = self.ctx.blobs.temp_path(".parquet")
        with SnapshotWriter(tmp, channels, sample_rate, provenance) as writer:
            fill(writer)
            cancel.raise_if_cancelled()
            meta = writer.finish()
        existed: set[str] = set()
        try:
            digest = self.ctx.blobs.adopt(tmp, existed=existed)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            self.ctx.health.failed(str(exc))
            raise StorageError(f"the dataset could not be stored ({exc}); nothing was "
                               "registered") from exc
        blob = self.ctx.blobs.path_of(digest)
        size = blob.stat().st_size

        def register(s: Session) -> DatasetInfo:
            existing = s.get(DatasetRow, digest)
            if existing is None:
                s.add(DatasetRow(id=digest, name=name.strip(), sample_rate=float(sample_rate),
                                 meta=json.dumps(meta, sort_keys=True), size_bytes=size,
                                 created_at=self.ctx.clock.now().isoformat(),
                                 created_by=principal.username))
                s.flush()  # the labels below refer to this row
                for rec in meta["recordings"]:
                    if rec["label"]:
                        s.add(DatasetLabelRow(dataset_id=digest, recording=rec["index"],
                                              label=rec["label"],
                                              created_at=self.ctx.clock.now().isoformat(),
                                              created_by=principal.username))
                s.flush()
            row = s.get_one(DatasetRow, digest)
            self.ctx.trail.append(
                s, user=principal.username, role=role.value, action=f"dataset.{action.value}",
                obj=f"dataset:{digest}",
                new={"name": row.name, "recordings": len(meta["recordings"]),
                     "samples": sum(r["n_samples"] for r in meta["recordings"]),
                     "conditions": sorted({r.get("condition", "") for r in meta["recordings"]}
                                          - {""}),
                     "duplicate_of_existing": existing is not None,
                     "provenance": provenance})
            return _info(s, row)

        try:
            return self.ctx.write(register)
        except BaseException:
            # A snapshot nobody registered is not kept.
            if digest not in existed:
                blob.unlink(missing_ok=True)
            raise

    def create_from_arrays(self, principal: Principal, *, action: Action, name: str,
                           channels: list[ChannelInfo], sample_rate: float, provenance: dict,
                           recordings: list[RecordingInput]) -> DatasetInfo:
        """Register a snapshot of in-memory recordings."""
        def fill(writer: SnapshotWriter) -> None:
            for rec in recordings:
                writer.begin_recording(rec.name, label=rec.label, start_time=rec.start_time,
                                       condition=check_condition(rec.condition, rec.name))
                writer.write(rec.data)
                writer.end_recording(interrupted=rec.interrupted)

        return self.create(principal, action=action, name=name, channels=channels,
                           sample_rate=sample_rate, provenance=provenance, fill=fill)

    def list(self, principal: Principal) -> list[DatasetInfo]:
        """Every dataset, newest first."""
        self.ctx.authorize(principal, Action.DATA_READ)
        with self.ctx.db.reader() as s:
            rows = s.scalars(select(DatasetRow).order_by(DatasetRow.created_at.desc()))
            return [_info(s, r) for r in rows]

    def show(self, principal: Principal, *, dataset: str) -> DatasetInfo:
        """One dataset by its id or an unambiguous id prefix (at least 6 characters)."""
        self.ctx.authorize(principal, Action.DATA_READ)
        with self.ctx.db.reader() as s:
            return _info(s, _find(s, dataset))

    def label(self, principal: Principal, *, dataset: str, recording: int, label: str,
              t_start: float | None = None, t_end: float | None = None) -> LabelInfo:
        """Label a whole recording, or the time range ``[t_start, t_end)`` of it."""
        label = label.strip()
        if not label:
            raise UsageError("the label is empty")
        if (t_start is None) != (t_end is None) or (
                t_start is not None and t_end is not None and not t_start < t_end):
            raise UsageError("give both ends of the time range, start before end")

        def change(s: Session, _role: Role):
            row = _find(s, dataset)
            info = _info(s, row)
            if not 0 <= recording < len(info.recordings):
                raise UsageError(f"dataset {row.id[:12]} has recordings 0 to "
                                 f"{len(info.recordings) - 1}, not {recording}")
            now = self.ctx.clock.now().isoformat()
            stored = DatasetLabelRow(dataset_id=row.id, recording=recording, t_start=t_start,
                                     t_end=t_end, label=label, created_at=now,
                                     created_by=principal.username)
            s.add(stored)
            s.flush()  # its id, to withdraw it by
            new = {"label_id": stored.id, "recording": recording, "label": label,
                   "t_start": t_start, "t_end": t_end}
            return None, new, _label(stored)

        return self.ctx.audited(principal, Action.DATA_LABEL, f"dataset:{dataset}", change)

    def withdraw_label(self, principal: Principal, *, dataset: str, label_id: int,
                       reason: str) -> LabelInfo:
        """Withdraw a wrong label (to edit one: withdraw it, then label again); the label
        stops counting for training and evaluation, the trail keeps both events."""
        reason = reason.strip()
        if not reason:
            raise UsageError("say why the label is withdrawn (the reason is audited)")

        def change(s: Session, _role: Role):
            row = _find(s, dataset)
            lb = s.get(DatasetLabelRow, label_id)
            if lb is None or lb.dataset_id != row.id:
                raise NotFound(f"dataset {row.id[:12]} has no label {label_id}")
            if lb.withdrawn_at is not None:
                raise Conflict(f"label {label_id} was already withdrawn by {lb.withdrawn_by} "
                               f"on {lb.withdrawn_at[:19]}")
            lb.withdrawn_at = self.ctx.clock.now().isoformat()
            lb.withdrawn_by = principal.username
            lb.withdraw_reason = reason
            old = {"label_id": lb.id, "recording": lb.recording, "label": lb.label,
                   "t_start": lb.t_start, "t_end": lb.t_end}
            return old, {"label_id": lb.id, "withdrawn": True}, _label(lb)

        return self.ctx.audited(principal, Action.DATA_LABEL, f"dataset:{dataset}", change,
                                reason=reason)

    def load(self, principal: Principal, *, dataset: str
             ) -> tuple[DatasetInfo, Iterator[tuple[RecordingInfo, np.ndarray]]]:
        """The dataset and its recordings as arrays (channels, samples); the file's hash is
        checked before it is read."""
        info = self.show(principal, dataset=dataset)
        path = self.ctx.blobs.path_of(info.dataset_id)
        if not path.exists() or self.ctx.blobs.hash_file(path) != info.dataset_id:
            raise IntegrityError(f"the snapshot file of dataset {info.dataset_id[:12]} is "
                                 "missing or was altered")
        return info, read_recordings(path, read_meta(path))


def conditions_line(info: DatasetInfo) -> str:
    """The recordings' operating conditions in one line, as validation will use them (the
    Data and Train pages and ``plantml datasets show`` print it)."""
    counts = Counter(r.condition for r in info.recordings)
    named = sorted((c, n) for c, n in counts.items() if c)
    if not named:
        return ("conditions: none recorded (one operating condition assumed; no condition "
                "can be held out in validation)")
    text = "conditions: " + ", ".join(f"{c} x{n}" for c, n in named)
    if counts.get(""):
        text += f", {counts['']} recording(s) without (always trained on)"
    if len(named) == 1:
        return text + "; only one, so no condition can be held out in validation"
    return text + f"; validation holds each of the {len(named)} out in turn"


def _find(s: Session, ref: str) -> DatasetRow:
    ref = ref.strip().lower()
    if len(ref) < 6:
        raise UsageError("give at least 6 characters of the dataset id")
    rows = list(s.scalars(select(DatasetRow).where(DatasetRow.id.startswith(ref))).all())
    if not rows:
        raise NotFound(f"there is no dataset {ref}")
    if len(rows) > 1:
        raise UsageError(f"{ref} matches {len(rows)} datasets; give more characters")
    return rows[0]


def _info(s: Session, row: DatasetRow) -> DatasetInfo:
    meta = json.loads(row.meta)
    labels = s.scalars(select(DatasetLabelRow).where(DatasetLabelRow.dataset_id == row.id,
                                                     DatasetLabelRow.withdrawn_at.is_(None))
                       .order_by(DatasetLabelRow.id))
    return DatasetInfo(
        dataset_id=row.id, name=row.name, sample_rate=row.sample_rate,
        channels=tuple(ChannelInfo(**c) for c in meta["channels"]),
        recordings=tuple(RecordingInfo(**r) for r in meta["recordings"]),
        provenance=meta["provenance"], size_bytes=row.size_bytes, created_at=row.created_at,
        created_by=row.created_by,
        labels=tuple(_label(lb) for lb in labels))


def _label(lb: DatasetLabelRow) -> LabelInfo:
    return LabelInfo(recording=lb.recording, label=lb.label, t_start=lb.t_start, t_end=lb.t_end,
                     created_by=lb.created_by, created_at=lb.created_at, id=lb.id)
