"""The on-disk side of an acquisition: a manifest and one append-only spool per recording.

Rows are flushed and fsynced at least every second, so a crash or a pulled cable loses at
most the last second; :func:`recover` turns a folder left by a crash into a result.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from app.core.records import ChannelInfo
from app.data.acquire.result import CRASHED, AcquisitionResult, AcquisitionStats
from app.data.recording import UNIX, Recording
from app.data.report import ValidationReport
from app.data.spool import SpoolWriter, read_spool
from app.data.tagmap.load import parse_tagmap
from app.data.tagmap.model import TagMap
from app.store.durable import durable_write

log = logging.getLogger(__name__)

MANIFEST = "acquisition.json"
TAGS = "tags"


class RowSink:
    """Rows of one recording, buffered in memory between flushes to its spool."""

    def __init__(self, path: Path, names: list[str], aux: tuple[str, ...] = ()) -> None:
        self.names, self.aux = names, aux
        fields = [pa.field(n, pa.float64()) for n in names]
        fields += [pa.field(a, pa.int64()) for a in aux]
        self.spool = SpoolWriter(path, pa.schema(fields))
        self.rows: list[list[float]] = []
        self.blocks: list[tuple[np.ndarray, np.ndarray, int]] = []

    @property
    def written(self) -> int:
        """Rows already in the spool."""
        return self.spool.rows

    def add_row(self, row: list[float]) -> None:
        self.rows.append(row)

    def add_block(self, t: np.ndarray, values: np.ndarray, index: int) -> None:
        self.blocks.append((t, values, index))

    def flush(self) -> None:
        """Write buffered rows as one batch and fsync the spool."""
        if self.rows:
            cols = np.asarray(self.rows, dtype=np.float64).reshape(len(self.rows), -1)
            self.spool.write_columns({n: cols[:, j] for j, n in enumerate(self.names)})
            self.rows = []
        if self.blocks:
            data = {self.names[0]: np.concatenate([b[0] for b in self.blocks]),
                    self.names[1]: np.concatenate([b[1] for b in self.blocks]),
                    self.aux[0]: np.concatenate([np.full(len(b[0]), b[2], dtype=np.int64)
                                                 for b in self.blocks])}
            self.spool.write_columns(data)
            self.blocks = []
        self.spool.sync()

    def close(self) -> None:
        self.flush()
        self.spool.close()


class AcqSession:
    """Creates the folder, writes the manifest, owns the sinks and builds the result."""

    def __init__(self, tagmap: TagMap, folder: Path, started_at: float) -> None:
        self.tagmap, self.folder, self.started_at = tagmap, folder, started_at
        # pyarrow imports pandas on its first array conversion (~0.3 s): pay that before
        # the recording starts, not in the middle of it where waveform buffers would be lost.
        pa.array(np.zeros(1))
        self.sinks: dict[str, RowSink] = {}
        if tagmap.tags:
            self.sinks[TAGS] = RowSink(folder / f"{TAGS}.arrows",
                                       ["t"] + [t.name for t in tagmap.tags])
        for wf in tagmap.waveforms:
            self.sinks[wf.name] = RowSink(folder / f"wave-{wf.name}.arrows", ["t", wf.name],
                                          ("seq",))
        self.write_manifest({"state": "recording"})

    def write_manifest(self, extra: dict) -> None:
        body = {"tagmap_text": self.tagmap.text, "tagmap_sha256": self.tagmap.sha256,
                "started_at": self.started_at, "spools": list(self.sinks), **extra}
        durable_write(self.folder / MANIFEST, json.dumps(body, indent=1).encode())

    def flush(self) -> None:
        for sink in self.sinks.values():
            sink.flush()

    def close(self) -> None:
        for sink in self.sinks.values():
            sink.close()

    def result(self, end_reason: str, interrupted: bool, error: str | None,
               stats: AcquisitionStats, gaps: list, ended_at: float) -> AcquisitionResult:
        """Build recordings from the closed spools and record the outcome in the manifest."""
        self.write_manifest({"state": "finished", "end_reason": end_reason, "error": error,
                             "ended_at": ended_at, "gaps": gaps, "stats": stats.to_dict()})
        recs = [_recording(self.tagmap, self.folder, name, sink.written, interrupted,
                           {"end_reason": end_reason, "error": error, "gaps": gaps,
                            "stats": stats.to_dict(), "started_at": self.started_at,
                            "ended_at": ended_at})
                for name, sink in self.sinks.items()]
        return AcquisitionResult(recs, end_reason, interrupted, error, stats, gaps, self.folder,
                                 self.started_at, ended_at)


def scale_text(scale: float, offset: float, tagmap_name: str) -> str:
    """How the tag map turns a register value into the unit, for the dataset and the card."""
    shift = f" {'+' if offset >= 0 else '-'} {abs(offset):g}" if offset else ""
    return f"raw x {scale:g}{shift} (tag map '{tagmap_name}')"


def _recording(tagmap: TagMap, folder: Path, name: str, rows: int, interrupted: bool,
               outcome: dict) -> Recording:
    conn = tagmap.connection
    prov = {"source": "modbus", "transport": conn.transport, "device": conn.describe(),
            "unit_id": conn.unit_id, "tagmap_name": tagmap.name,
            "tagmap_sha256": tagmap.sha256, "tagmap_toml": tagmap.text, **outcome}
    report = ValidationReport(f"{conn.describe()} {name}")
    report.count_rows(rows, 0)
    if name == TAGS:
        channels = tuple(ChannelInfo(t.name, t.unit, scale_text(t.scale, t.offset, tagmap.name))
                         for t in tagmap.tags)
        prov["poll_rate_hz"] = tagmap.poll_rate_hz
        # The poll rate is nominal: the time column holds when each row was captured.
        return Recording(name, channels, folder / f"{TAGS}.arrows", rows, report,
                         time_origin=UNIX, sample_rate=tagmap.poll_rate_hz, provenance=prov,
                         interrupted=interrupted)
    wf = next(w for w in tagmap.waveforms if w.name == name)
    prov.update(buffer_length=wf.length, missed_buffers=outcome["stats"]["missed_buffers"]
                .get(name, 0))
    channel = ChannelInfo(wf.name, wf.unit, scale_text(wf.scale, wf.offset, tagmap.name))
    return Recording(name, (channel,), folder / f"wave-{name}.arrows",
                     rows, report, time_origin=UNIX, sample_rate=wf.sample_rate_hz,
                     provenance=prov, aux_columns=("seq",), interrupted=interrupted)


def recover(folder: Path) -> AcquisitionResult:
    """The samples a crashed acquisition left in ``folder`` (complete batches only).

    Raises FileNotFoundError if there is no manifest; the result is marked interrupted.
    """
    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    tagmap = parse_tagmap(manifest["tagmap_text"], "recovered tag map")
    stats = AcquisitionStats()
    recs = []
    for name in manifest["spools"]:
        path = folder / (f"{TAGS}.arrows" if name == TAGS else f"wave-{name}.arrows")
        rows = sum(b.num_rows for b in read_spool(path, tolerate_torn_tail=True))
        recs.append(_recording(tagmap, folder, name, rows, True,
                               {"end_reason": CRASHED, "error": None, "gaps": [],
                                "stats": stats.to_dict(),
                                "started_at": manifest["started_at"], "ended_at": None}))
    log.warning("recovered acquisition in %s after a crash", folder)
    return AcquisitionResult(recs, CRASHED, True, "the acquisition did not finish (crash)",
                             stats, [], folder, manifest["started_at"], time.time())
