"""Readers for Parquet, NPZ and MAT files; they run only inside the sandboxed child process."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.data.binary.arrays import Columns, Refusal, collect
from app.data.csv.layout import TIME_NAMES

BATCH_ROWS = 65_536
MAT73_MARK = b"MATLAB 7.3"


def _float_batches(cols: Columns) -> Iterator[pa.RecordBatch]:
    names = ([cols.time_name] if cols.time is not None else []) + list(cols.channels)
    arrays = ([cols.time] if cols.time is not None else []) + list(cols.channels.values())
    n = len(arrays[0])
    for start in range(0, n, BATCH_ROWS):
        part = [np.asarray(a[start:start + BATCH_ROWS], dtype=np.float64) for a in arrays]
        yield pa.RecordBatch.from_arrays([pa.array(p) for p in part], names=names)


def read_npz(path: Path, keys: list[str] | None, max_bytes: int) -> tuple[Columns, Iterator]:
    """Arrays of an ``.npz``; pickled objects are refused (they could run code)."""
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(i.file_size for i in zf.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Refusal(f"not a valid NPZ (zip) file: {exc}") from exc
    if total > max_bytes:
        raise Refusal(f"arrays would take {total} bytes unpacked, over the {max_bytes} limit")
    try:
        with np.load(path, allow_pickle=False) as npz:
            items = [(name, npz[name]) for name in npz.files]
    except (ValueError, OSError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise Refusal(f"not a valid NPZ file: {exc}") from exc
    cols = collect(items, keys)
    return cols, _float_batches(cols)


def read_mat(path: Path, keys: list[str] | None) -> tuple[Columns, Iterator]:
    """Variables of a MATLAB v4/v5/v7 ``.mat`` file (v7.3 is HDF5 and refused)."""
    import scipy.io

    with open(path, "rb") as fh:
        if MAT73_MARK in fh.read(128):
            raise Refusal("MATLAB v7.3 (HDF5) files are not supported")
    try:
        data = scipy.io.loadmat(str(path), squeeze_me=False, struct_as_record=True)
    except (ValueError, TypeError, OSError, EOFError, KeyError, IndexError,
            NotImplementedError, OverflowError, UnicodeDecodeError) as exc:
        raise Refusal(f"not a readable MAT file: {exc}") from exc
    items = [(k, v) for k, v in data.items() if not k.startswith("__")]
    cols = collect(items, keys)
    return cols, _float_batches(cols)


def _parquet_float(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    if pa.types.is_timestamp(arr.type):
        ns = arr.cast(pa.timestamp("ns", tz=arr.type.tz)).cast(pa.int64())
        return pc.divide(ns.cast(pa.float64()), 1e9)
    return arr.cast(pa.float64(), safe=False)


def read_parquet(path: Path, keys: list[str] | None, time_column: str | None
                 ) -> tuple[Columns, Iterator]:
    """Numeric and timestamp columns of a Parquet file, streamed by record batch."""
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(str(path))
        schema = pf.schema_arrow
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise Refusal(f"not a valid Parquet file: {exc}") from exc
    cols = Columns()
    names = []
    for fld in schema:
        numeric = pa.types.is_integer(fld.type) or pa.types.is_floating(fld.type) or \
            pa.types.is_boolean(fld.type) or pa.types.is_timestamp(fld.type)
        if keys is not None and fld.name not in keys and fld.name != time_column:
            continue
        if not numeric:
            cols.notes.append(f"skipped {fld.name!r}: not numeric ({fld.type})")
            continue
        names.append(fld.name)
    if keys is not None:
        missing = [k for k in keys if k not in schema.names]
        if missing:
            raise Refusal(f"no column named {', '.join(map(repr, missing))}")
    tname = time_column or next((n for n in names if n.lower() in TIME_NAMES or
                                 pa.types.is_timestamp(schema.field(n).type)), None)
    if time_column is not None and time_column not in names:
        raise Refusal(f"no numeric or timestamp column named {time_column!r}")
    cols.time_name = tname
    chans = [n for n in names if n != tname]
    if not chans:
        raise Refusal("no numeric channel found")
    cols.channels = dict.fromkeys(chans, np.empty(0))  # names only; data is streamed below
    order = ([tname] if tname else []) + chans

    def batches() -> Iterator[pa.RecordBatch]:
        try:
            for batch in pf.iter_batches(batch_size=BATCH_ROWS, columns=order):
                yield pa.RecordBatch.from_arrays(
                    [_parquet_float(batch.column(n)) for n in order], names=order)
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise Refusal(f"corrupt Parquet data: {exc}") from exc

    cols.scalars = {"parquet_rows": float(pf.metadata.num_rows)}
    if tname and pa.types.is_timestamp(schema.field(tname).type):
        cols.notes.append(f"time column {tname!r} is a timestamp: seconds since 1970 UTC")
        cols.scalars["time_is_unix"] = 1.0
    plantml = (schema.metadata or {}).get(b"plantml")
    if plantml:
        cols.notes.append("carries PlantML snapshot metadata")
        cols.scalars["has_plantml_metadata"] = 1.0
    return cols, batches()
