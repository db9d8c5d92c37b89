"""Data in: import files and acquire over Modbus into immutable, audited dataset snapshots."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import PlantMLError, UsageError
from app.core.principal import Principal
from app.core.progress import (
    NEVER_CANCELLED,
    CancelToken,
    ProgressFn,
    no_progress,
    share_of,
    sub_progress,
)
from app.core.records import DatasetInfo
from app.core.roles import Action
from app.data.acquire.loop import acquire
from app.data.binary.importer import BinaryOptions
from app.data.csv.options import CsvOptions
from app.data.cwru import import_cwru
from app.data.importer import file_kind, import_file
from app.data.recording import Recording
from app.data.snapshot import SnapshotWriter
from app.data.tagmap.load import load_tagmap
from app.fieldbus.ports import list_serial_ports
from app.services.base import ServiceContext
from app.services.datasets import DatasetService


@dataclass(frozen=True)
class ImportOutcome:
    """The registered snapshot and the validation report of every file."""

    dataset: DatasetInfo
    reports: dict[str, dict]

    def summary(self) -> str:
        """One line per file: rows in, accepted, rejected, flagged."""
        return "\n".join(f"{name}: {rep['summary']}" for name, rep in self.reports.items())


@dataclass(frozen=True)
class AcquireOutcome:
    """One snapshot per sample rate (process tags, each waveform) and how the run ended."""

    datasets: list[DatasetInfo]
    end_reason: str
    interrupted: bool
    error: str | None
    stats: dict


class DataInService:
    """File import and Modbus acquisition; both end in :class:`DatasetService` snapshots."""

    def __init__(self, ctx: ServiceContext, datasets: DatasetService, work_root: Path) -> None:
        self.ctx = ctx
        self.datasets = datasets
        self.work_root = work_root

    def import_files(self, principal: Principal, *, paths: list[Path], name: str = "",
                     csv: CsvOptions | None = None, binary: BinaryOptions | None = None,
                     cwru: bool = False, channels: list[str] | None = None,
                     progress: ProgressFn = no_progress,
                     cancel: CancelToken = NEVER_CANCELLED) -> ImportOutcome:
        """Import each file as one recording of a new dataset. All files must have the same
        ``channels`` (default: all of the first file's) and sample rate. A refused file
        registers nothing; the refusal is audited."""
        if not paths:
            raise UsageError("name at least one file to import")
        role = self.ctx.authorize(principal, Action.DATA_IMPORT, str(paths[0]))
        self.work_root.mkdir(parents=True, exist_ok=True)
        recordings: list[Recording] = []
        try:
            for i, path in enumerate(paths):
                step = share_of(progress, i, len(paths), end=0.8)
                recordings.append(self._read(Path(path), csv, binary, cwru, step, cancel))
            picked = channels or recordings[0].channel_names
            _check_same_shape(recordings, picked)
            reports = {Path(p).name: dict(r.report.to_dict(), summary=r.report.summary())
                       for p, r in zip(paths, recordings, strict=True)}
            report_blob = self.ctx.blobs.put_bytes(json.dumps(reports, indent=1).encode())
            first = recordings[0]
            provenance = {"source": "file", "files": [r.provenance for r in recordings],
                          "validation_reports": report_blob, "user": principal.username}
            progress(0.85, "writing the snapshot")
            dataset = self.datasets.create(
                principal, action=Action.DATA_IMPORT, name=name or Path(paths[0]).stem,
                channels=[c for c in first.channels if c.name in picked],
                sample_rate=first.nominal_rate(), provenance=provenance,
                fill=_writer_of(recordings, [Path(p).stem for p in paths], picked),
                cancel=cancel)
        except PlantMLError as exc:
            self.ctx.audit_outcome(principal, role.value, "dataset.data.import",
                                   ", ".join(map(str, paths)), result="refused",
                                   reason=str(exc))
            raise
        finally:
            for rec in recordings:
                rec.discard()
        progress(1.0, "imported")
        return ImportOutcome(dataset=dataset, reports=reports)

    def _read(self, path: Path, csv: CsvOptions | None, binary: BinaryOptions | None,
              cwru: bool, progress: ProgressFn, cancel: CancelToken) -> Recording:
        if cwru:
            return import_cwru(path, work_dir=self.work_root, progress=progress, cancel=cancel)
        options = csv if file_kind(path) == "csv" else binary
        return import_file(path, options, work_dir=self.work_root, progress=progress,
                           cancel=cancel)

    def acquire(self, principal: Principal, *, tagmap: Path, duration_s: float, name: str = "",
                progress: ProgressFn = no_progress, cancel: CancelToken = NEVER_CANCELLED,
                on_row: Callable | None = None, on_block: Callable | None = None
                ) -> AcquireOutcome:
        """Record the tag map's device for ``duration_s`` (cancel stops early and keeps the
        samples), then register one snapshot per sample rate."""
        if duration_s <= 0:
            raise UsageError("the duration must be positive")
        role = self.ctx.authorize(principal, Action.DATA_ACQUIRE, str(tagmap))
        tm = load_tagmap(Path(tagmap))
        self.work_root.mkdir(parents=True, exist_ok=True)
        try:
            result = acquire(tm, duration_s=duration_s, work_dir=self.work_root,
                             progress=sub_progress(progress, 0.0, 0.8), cancel=cancel,
                             on_row=on_row, on_block=on_block)
        except PlantMLError as exc:
            self.ctx.audit_outcome(principal, role.value, "dataset.data.acquire", str(tagmap),
                                   result="failed", reason=str(exc))
            raise
        try:
            datasets = []
            for rec in result.recordings:
                if rec.num_rows == 0:
                    continue
                provenance = {"source": "modbus", "tagmap_sha256": tm.sha256,
                              "tagmap": tm.text, "user": principal.username,
                              "started_at": result.started_at, "ended_at": result.ended_at,
                              "end_reason": result.end_reason, "gaps": result.gaps,
                              "stats": result.stats.to_dict(), **rec.provenance}
                datasets.append(self.datasets.create(
                    principal, action=Action.DATA_ACQUIRE,
                    name=f"{name or Path(tagmap).stem} {rec.name}",
                    channels=list(rec.channels), sample_rate=rec.nominal_rate(),
                    provenance=provenance, fill=_writer_of([rec])))
        finally:
            result.discard()
        progress(1.0, "recording stored")
        return AcquireOutcome(datasets=datasets, end_reason=result.end_reason,
                              interrupted=result.interrupted, error=result.error,
                              stats=result.stats.to_dict())

    @staticmethod
    def serial_ports() -> list[dict[str, str]]:
        """Serial ports of this computer: device name (COM3, /dev/ttyUSB0), description."""
        return [{"device": p.device, "description": p.description, "hwid": p.hwid}
                for p in list_serial_ports()]


def _writer_of(recordings: list[Recording], names: list[str] | None = None,
               channels: list[str] | None = None):
    def fill(writer: SnapshotWriter) -> None:
        for i, rec in enumerate(recordings):
            name = names[i] if names else rec.name
            order = list(channels or rec.channel_names)
            rows = [rec.channel_names.index(c) for c in
                    sorted(order, key=rec.channel_names.index)]
            writer.begin_recording(name, label=rec.label or "",
                                   start_time=rec.start_time_iso())
            for block, t in rec.blocks():
                writer.write(block[rows], t)
            writer.end_recording(interrupted=rec.interrupted)
    return fill


def _check_same_shape(recordings: list[Recording], channels: list[str]) -> None:
    first = recordings[0]
    for rec in recordings:
        missing = [c for c in channels if c not in rec.channel_names]
        if missing:
            raise UsageError(f"{rec.name} has no channel {missing[0]!r} (it has "
                             f"{', '.join(rec.channel_names)}): choose channels all files have")
        if abs(rec.nominal_rate() - first.nominal_rate()) > 1e-9 * first.nominal_rate():
            raise UsageError(f"{rec.name} is sampled at {rec.nominal_rate():g} Hz, "
                             f"{first.name} at {first.nominal_rate():g} Hz")

