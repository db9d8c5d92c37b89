"""Data in: import files and acquire over Modbus into immutable, audited dataset snapshots."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
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
from app.core.records import ChannelInfo, DatasetInfo
from app.core.roles import Action
from app.data.acquire.loop import acquire
from app.data.acquire.once import TestRead, read_once
from app.data.binary.importer import BinaryOptions
from app.data.conditions import (
    channel_condition,
    check_condition,
    conditions_for,
    read_condition_file,
)
from app.data.csv.options import CsvOptions
from app.data.cwru import import_cwru
from app.data.importer import file_kind, import_file
from app.data.recording import Recording
from app.data.snapshot import SnapshotWriter
from app.data.tagmap.load import load_tagmap, parse_tagmap
from app.fieldbus.ports import list_serial_ports
from app.services import tagmap_files
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
    condition: str = ""  # the operating condition stored with every recording of the run
    condition_note: str = ""  # why the condition tag gave none, if it did not


class DataInService:
    """File import and Modbus acquisition; both end in :class:`DatasetService` snapshots."""

    def __init__(self, ctx: ServiceContext, datasets: DatasetService, work_root: Path) -> None:
        self.ctx = ctx
        self.datasets = datasets
        self.work_root = work_root

    def import_files(self, principal: Principal, *, paths: list[Path], name: str = "",
                     csv: CsvOptions | None = None, binary: BinaryOptions | None = None,
                     cwru: bool = False, channels: list[str] | None = None,
                     condition: str = "", file_conditions: Mapping[str, str] | None = None,
                     condition_file: Path | None = None, condition_channel: str = "",
                     condition_step: float | None = None,
                     units: Mapping[str, str] | None = None,
                     scales: Mapping[str, str] | None = None,
                     progress: ProgressFn = no_progress,
                     cancel: CancelToken = NEVER_CANCELLED) -> ImportOutcome:
        """Import each file as one recording of a new dataset. All files must have the same
        ``channels`` (default: all of the first file's) and sample rate. A refused file
        registers nothing; the refusal is audited.

        Each recording's operating condition (stored in the snapshot; validation holds each
        condition out in turn) is, first that applies: its entry in ``file_conditions`` or
        the CSV side file ``condition_file`` (columns file, condition; files named by path,
        name or stem); the mean of ``condition_channel`` over the file, rounded to
        ``condition_step`` (else three significant figures), as "speed=1500rpm"; the
        ``condition`` of every file; what the file name says (CWRU: the motor load).
        ``units`` and ``scales`` (per channel) state the physical unit and how the values
        were scaled to it; they reach the model card.
        """
        if not paths:
            raise UsageError("name at least one file to import")
        role = self.ctx.authorize(principal, Action.DATA_IMPORT, str(paths[0]))
        self.work_root.mkdir(parents=True, exist_ok=True)
        recordings: list[Recording] = []
        try:
            per_file = dict(read_condition_file(condition_file) if condition_file else {})
            per_file.update(file_conditions or {})
            listed = conditions_for([Path(p) for p in paths], per_file=per_file)
            default = check_condition(condition, "the condition of every file")
            for i, path in enumerate(paths):
                step = share_of(progress, i, len(paths), end=0.8)
                recordings.append(self._read(Path(path), csv, binary, cwru, step, cancel))
            picked = channels or recordings[0].channel_names
            _check_same_shape(recordings, picked)
            for rec, listed_condition in zip(recordings, listed, strict=True):
                measured = (_channel_mean(rec, condition_channel, condition_step)
                            if condition_channel and not listed_condition else "")
                rec.condition = listed_condition or measured or default or rec.condition
            reports = {Path(p).name: dict(r.report.to_dict(), summary=r.report.summary())
                       for p, r in zip(paths, recordings, strict=True)}
            report_blob = self.ctx.blobs.put_bytes(json.dumps(reports, indent=1).encode())
            first = recordings[0]
            provenance = {"source": "file", "files": [r.provenance for r in recordings],
                          "validation_reports": report_blob, "user": principal.username}
            progress(0.85, "writing the snapshot")
            dataset = self.datasets.create(
                principal, action=Action.DATA_IMPORT, name=name or Path(paths[0]).stem,
                channels=_described([c for c in first.channels if c.name in picked], units,
                                    scales),
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
                condition: str = "", condition_tag: str = "",
                condition_step: float | None = None,
                progress: ProgressFn = no_progress, cancel: CancelToken = NEVER_CANCELLED,
                on_row: Callable | None = None, on_block: Callable | None = None
                ) -> AcquireOutcome:
        """Record the tag map's device for ``duration_s`` (cancel stops early and keeps the
        samples), then register one snapshot per sample rate.

        The operating condition of every recording of the run is the mean of the tag
        ``condition_tag`` over the run (e.g. a speed or load tag, rounded to
        ``condition_step``, else three significant figures: "speed=1500rpm"), else
        ``condition``. Units and scales come from the tag map."""
        if duration_s <= 0:
            raise UsageError("the duration must be positive")
        condition = check_condition(condition, "the condition")
        role = self.ctx.authorize(principal, Action.DATA_ACQUIRE, str(tagmap))
        tm = load_tagmap(Path(tagmap))
        if condition_tag and condition_tag not in [t.name for t in tm.tags] + [
                w.name for w in tm.waveforms]:
            raise UsageError(f"{tagmap}: there is no tag {condition_tag!r} to take the "
                             "condition from")
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
            condition, note = _run_condition(result.recordings, condition, condition_tag,
                                             condition_step)
            datasets = []
            for rec in result.recordings:
                rec.condition = condition
                if rec.num_rows == 0:
                    continue
                provenance = {"source": "modbus", "tagmap_sha256": tm.sha256,
                              "tagmap": tm.text, "user": principal.username,
                              "started_at": result.started_at, "ended_at": result.ended_at,
                              "end_reason": result.end_reason, "gaps": result.gaps,
                              "stats": result.stats.to_dict(), **rec.provenance}
                if note:
                    provenance["condition_note"] = note
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
                              stats=result.stats.to_dict(), condition=condition,
                              condition_note=note)

    def read_tags_once(self, principal: Principal, *, text: str, source: str = "tag map",
                       progress: ProgressFn = no_progress,
                       cancel: CancelToken = NEVER_CANCELLED) -> TestRead:
        """Connect to the device of the tag map ``text`` (TOML) and read every tag once, as
        the acquisition would: each value in its unit, or a readable error for its row or
        for the device (the editor's "Test read"). Nothing is recorded and, being a read,
        nothing audited but a refused role; an invalid tag map raises TagMapError."""
        self.ctx.authorize(principal, Action.DATA_ACQUIRE, source)
        return read_once(parse_tagmap(text, source), progress=progress, cancel=cancel)

    # The editor's file steps (app.services.tagmap_files), here beside the acquisition.
    open_tagmap = staticmethod(tagmap_files.open_tagmap)
    check_tagmap = staticmethod(tagmap_files.check_tagmap)
    save_tagmap = staticmethod(tagmap_files.save_tagmap)
    tagmap_text = staticmethod(tagmap_files.tagmap_text)

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
                                   start_time=rec.start_time_iso(), condition=rec.condition)
            for block, t in rec.blocks():
                writer.write(block[rows], t)
            writer.end_recording(interrupted=rec.interrupted)
    return fill


def _run_condition(recordings: list[Recording], given: str, tag: str, step: float | None
                   ) -> tuple[str, str]:
    """The condition of an acquisition run, and a note when the tag could not give it (the
    samples are kept all the same: a recording is never lost over its condition)."""
    if not tag:
        return given, ""
    source = next((r for r in recordings if tag in r.channel_names and r.num_rows), None)
    try:
        if source is None:
            raise UsageError(f"the tag {tag} recorded no value")
        return _channel_mean(source, tag, step), ""
    except UsageError as exc:
        fallback = f"; the condition given ({given}) was used" if given else ""
        return given, f"no condition from the tag {tag}: {exc}{fallback}"


def _channel_mean(rec: Recording, channel: str, step: float | None) -> str:
    """The condition named by a channel's mean over the recording ("speed=1500rpm")."""
    if channel not in rec.channel_names:
        raise UsageError(f"{rec.name} has no channel {channel!r} to take the condition from "
                         f"(it has {', '.join(rec.channel_names)})")
    return channel_condition(channel, rec.units.get(channel, ""),
                             (b.column(channel).to_numpy() for b in rec.batches()), step,
                             where=rec.name)


def _described(channels: list[ChannelInfo], units: Mapping[str, str] | None,
               scales: Mapping[str, str] | None) -> list[ChannelInfo]:
    """The channels with the units and scales the import was told, by channel name ('*':
    every channel not named)."""
    names = [c.name for c in channels]
    units, scales = dict(units or {}), dict(scales or {})
    for what, given in (("unit", units), ("scale", scales)):
        unknown = [k for k in given if k not in names and k != "*"]
        if unknown:
            raise UsageError(f"a {what} was given for {unknown[0]!r}, which is not a channel "
                             f"of this import ({', '.join(names)})")
    return [replace(c, unit=units.get(c.name, units.get("*", c.unit)).strip(),
                    scale=scales.get(c.name, scales.get("*", c.scale)).strip())
            for c in channels]


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

