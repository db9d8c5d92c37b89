"""Dataset snapshots: immutable Parquet files (zstd) named by their SHA-256.

Layout: one row per sample, columns ``recording`` (int32), ``t`` (seconds from the start of
the recording) and one float64 column per channel. The file carries its own metadata
(channels with unit and scale, sample rate, recordings with label and operating condition,
provenance) so it stays meaningful on its own.

Formats: ``plantml-snapshot-v2`` adds each recording's ``condition`` and each channel's
``scale``; ``plantml-snapshot-v1`` files (without them) are read as having none.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from app.core.errors import IntegrityError, UsageError
from app.core.records import ChannelInfo, RecordingInfo

META_KEY = b"plantml.snapshot"
FORMAT = "plantml-snapshot-v2"
#: Formats this code reads; v1 lacks conditions and scales, which default to ''.
READABLE = ("plantml-snapshot-v1", FORMAT)


class SnapshotWriter:
    """Streams recordings into a Parquet file; :meth:`finish` returns its metadata.

    Use as a context manager: an exception (or a cancel) removes the partial file.
    """

    def __init__(self, path: Path, channels: list[ChannelInfo], sample_rate: float,
                 provenance: dict) -> None:
        if not channels:
            raise UsageError("a dataset needs at least one channel")
        names = [c.name for c in channels]
        if len(set(names)) != len(names) or any(not n.strip() for n in names):
            raise UsageError(f"channel names must be unique and not empty: {names}")
        if {"recording", "t"} & set(names):
            raise UsageError("'recording' and 't' are reserved column names")
        if not sample_rate or not np.isfinite(sample_rate) or sample_rate <= 0:
            raise UsageError(f"the sample rate must be a positive number, not {sample_rate}")
        self.path = Path(path)
        self.channels = list(channels)
        self.sample_rate = float(sample_rate)
        self.provenance = provenance
        self.recordings: list[RecordingInfo] = []
        self._schema = pa.schema([("recording", pa.int32()), ("t", pa.float64())]
                                 + [(c.name, pa.float64()) for c in channels])
        self._writer = pq.ParquetWriter(self.path, self._schema, compression="zstd")
        self._current: dict | None = None

    def begin_recording(self, name: str, *, label: str = "", start_time: str = "",
                        condition: str = "") -> None:
        """Start the next recording; ``condition`` is its operating condition (e.g.
        "load=0hp"), '' when not known."""
        if self._current is not None:
            raise UsageError("finish the current recording first")
        self._current = {"name": name, "label": label, "start_time": start_time,
                         "condition": condition, "n": 0}

    def write(self, block: np.ndarray, t: np.ndarray | None = None) -> None:
        """Append samples ``block`` of shape (channels, n); ``t`` in seconds, else derived
        from the sample rate."""
        cur = self._current
        if cur is None:
            raise UsageError("begin a recording before writing samples")
        block = np.asarray(block, dtype=np.float64)
        if block.ndim != 2 or block.shape[0] != len(self.channels):
            raise UsageError(f"expected samples of shape ({len(self.channels)}, n), got "
                             f"{block.shape}")
        n = block.shape[1]
        if t is None:
            t = (cur["n"] + np.arange(n, dtype=np.float64)) / self.sample_rate
        index = len(self.recordings)
        columns = [pa.array(np.full(n, index, dtype=np.int32)), pa.array(np.asarray(t, float))]
        columns += [pa.array(block[i]) for i in range(block.shape[0])]
        self._writer.write_table(pa.Table.from_arrays(columns, schema=self._schema))
        cur["n"] += n

    def end_recording(self, *, interrupted: bool = False) -> RecordingInfo:
        """Close the current recording."""
        cur = self._current
        if cur is None:
            raise UsageError("no recording is open")
        info = RecordingInfo(index=len(self.recordings), name=cur["name"], n_samples=cur["n"],
                             label=cur["label"], interrupted=interrupted,
                             start_time=cur["start_time"], condition=cur["condition"])
        self.recordings.append(info)
        self._current = None
        return info

    def finish(self) -> dict:
        """Write the metadata and close the file; returns the metadata."""
        if self._current is not None:
            self.end_recording()
        if not self.recordings or not any(r.n_samples for r in self.recordings):
            raise UsageError("the dataset holds no samples")
        meta = {"format": FORMAT, "sample_rate": self.sample_rate,
                "channels": [asdict(c) for c in self.channels],
                "recordings": [asdict(r) for r in self.recordings],
                "provenance": self.provenance}
        self._writer.add_key_value_metadata({META_KEY: json.dumps(meta, sort_keys=True)})
        self._writer.close()
        self._writer = None
        return meta

    def __enter__(self) -> SnapshotWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            if self._writer is not None:
                with contextlib.suppress(Exception):
                    self._writer.close()
            with contextlib.suppress(OSError):
                self.path.unlink()


def read_meta(path: Path) -> dict:
    """The metadata a snapshot file carries; raises IntegrityError if it has none."""
    try:
        kv = pq.read_metadata(path).metadata or {}
        meta = json.loads(kv[META_KEY])
    except (KeyError, ValueError, OSError, pa.ArrowException) as exc:
        raise IntegrityError(f"{path} is not a PlantML dataset snapshot: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") not in READABLE:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise IntegrityError(f"{path}: snapshot format {found!r} is not one this PlantML reads "
                             f"({', '.join(READABLE)}); a newer PlantML wrote it")
    return meta


def read_recordings(path: Path, meta: dict) -> Iterator[tuple[RecordingInfo, np.ndarray]]:
    """Each recording with its samples as an array of shape (channels, n)."""
    names = [c["name"] for c in meta["channels"]]
    table = pq.read_table(path, columns=names)
    total = sum(r["n_samples"] for r in meta["recordings"])
    if table.num_rows != total:
        raise IntegrityError(f"{path}: holds {table.num_rows} samples, its metadata says {total}")
    start = 0
    for r in meta["recordings"]:
        info = RecordingInfo(**r)
        data = np.vstack([table.column(n).slice(start, info.n_samples).to_numpy()
                          for n in names])
        start += info.n_samples
        yield info, np.ascontiguousarray(data)
