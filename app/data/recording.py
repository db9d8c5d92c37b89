"""A validated multichannel recording held in a spool file, ready for the snapshot writer."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from app.core.records import ChannelInfo
from app.data.report import ValidationReport
from app.data.spool import read_spool

log = logging.getLogger(__name__)

#: Time origins: seconds from the first sample, or seconds since 1970-01-01 UTC.
RELATIVE = "relative"
UNIX = "unix"


@dataclass
class Recording:
    """Accepted rows of one source: a float64 time column plus one float64 column per channel.

    The rows live in an Arrow IPC spool on disk (bounded memory for any size); read them with
    :meth:`batches`. ``aux_columns`` are extra non-channel columns (e.g. a waveform's buffer
    sequence number). ``condition`` is the operating condition the rows were taken in
    ("load=0hp"; '' when not known). Call :meth:`discard` once the snapshot is written, or
    on failure.
    """

    name: str
    channels: tuple[ChannelInfo, ...]
    spool_path: Path
    num_rows: int
    report: ValidationReport
    time_column: str = "t"
    time_origin: str = RELATIVE
    sample_rate: float | None = None
    label: str | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    aux_columns: tuple[str, ...] = ()
    interrupted: bool = False
    owns_dir: Path | None = None
    condition: str = ""

    @property
    def channel_names(self) -> list[str]:
        """Names of the value columns, in order."""
        return [c.name for c in self.channels]

    @property
    def units(self) -> dict[str, str]:
        """Unit per channel name."""
        return {c.name: c.unit for c in self.channels}

    @property
    def schema(self) -> pa.Schema:
        """Arrow schema of the batches, with :meth:`metadata` attached."""
        fields = [pa.field(self.time_column, pa.float64())]
        fields += [pa.field(c.name, pa.float64()) for c in self.channels]
        fields += [pa.field(a, pa.int64()) for a in self.aux_columns]
        return pa.schema(fields, metadata=self.metadata())

    def batches(self) -> Iterator[pa.RecordBatch]:
        """Stream the accepted rows; a spool torn by a crash yields its complete batches."""
        yield from read_spool(self.spool_path, tolerate_torn_tail=self.interrupted)

    def read_table(self) -> pa.Table:
        """All rows in memory (for small recordings and tests)."""
        batches = list(self.batches())
        if not batches:
            return self.schema.empty_table()
        return pa.Table.from_batches(batches).replace_schema_metadata(self.schema.metadata)

    def column(self, name: str) -> np.ndarray:
        """One column as a float64 (or int64) NumPy array, loaded whole."""
        return self.read_table().column(name).to_numpy()

    def blocks(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """(samples of shape (channels, n), seconds from the first sample) per batch: the
        shape ``SnapshotWriter.write`` takes."""
        t0 = None
        for batch in self.batches():
            t = batch.column(self.time_column).to_numpy()
            if t0 is None and len(t):
                t0 = float(t[0])
            block = np.vstack([batch.column(c.name).to_numpy() for c in self.channels])
            yield block, t - (t0 or 0.0)

    def nominal_rate(self) -> float:
        """The sample rate, or one estimated from the median step of the first rows."""
        if self.sample_rate:
            return float(self.sample_rate)
        for batch in self.batches():
            t = batch.column(self.time_column).to_numpy()[:10_000]
            steps = np.diff(t)
            if len(steps) and np.median(steps) > 0:
                return float(1.0 / np.median(steps))
        return 1.0

    def start_time_iso(self) -> str:
        """ISO 8601 UTC time of the first sample if the time axis is Unix time, else ''."""
        if self.time_origin != UNIX:
            return ""
        for batch in self.batches():
            if batch.num_rows:
                first = batch.column(self.time_column)[0].as_py()
                return datetime.fromtimestamp(first, UTC).isoformat()
        return ""

    def duration_s(self) -> float:
        """Seconds from the first to the last accepted sample (0 for fewer than 2 rows)."""
        if self.num_rows < 2:
            return 0.0
        t = self.column(self.time_column)
        return float(t[-1] - t[0])

    def metadata(self) -> dict[bytes, bytes]:
        """Key-value metadata for the snapshot's Parquet schema (values are JSON)."""
        plain = {"channels": [c.name for c in self.channels],
                 "units": self.units, "time_column": self.time_column,
                 "time_origin": self.time_origin, "sample_rate": self.sample_rate,
                 "label": self.label, "interrupted": self.interrupted,
                 "condition": self.condition, "provenance": self.provenance}
        return {b"plantml": json.dumps(plain, sort_keys=True, default=str).encode()}

    def discard(self) -> None:
        """Delete the spool (and the folder this recording owns); safe to call twice."""
        if self.owns_dir is not None:
            shutil.rmtree(self.owns_dir, ignore_errors=True)
        else:
            with contextlib.suppress(FileNotFoundError):
                self.spool_path.unlink()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.discard()
