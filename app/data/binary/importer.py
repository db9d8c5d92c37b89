"""Import Parquet, NPZ and MAT files: parsed in a sandboxed child, validated here."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.core.records import ChannelInfo
from app.data.binary.sandbox import run_parser
from app.data.errors import ImportRefused
from app.data.filehash import BackgroundDigest
from app.data.recording import RELATIVE, UNIX, Recording
from app.data.report import ValidationReport
from app.data.spool import SpoolWriter, make_work_dir, read_spool
from app.data.validate import ROW, RowValidator, resolve_policy

log = logging.getLogger(__name__)

FORMATS = ("parquet", "npz", "mat")


@dataclass
class BinaryOptions:
    """Choices for :func:`import_binary`.

    ``keys`` picks variables (NPZ, MAT) or columns (Parquet); ``sample_rate`` (Hz) is needed
    when the file has no time array and no scalar named fs/sample_rate. The NaN policy and
    time order work as for CSV. The child parser gets ``timeout_s`` (default: 30 s plus 1 s
    per 10 MB) and ``max_memory_bytes`` of address space.
    """

    keys: list[str] | None = None
    time_column: str | None = None
    sample_rate: float | None = None
    nan_policy: str | Mapping[str, str] = "reject"
    time_order: str = "reject"
    units: Mapping[str, str] = field(default_factory=dict)
    label: str | None = None
    timeout_s: float | None = None
    max_memory_bytes: int = 2 << 30
    max_listed_issues: int = 100_000


def detect_format(path: Path) -> str:
    """'parquet', 'npz' or 'mat' from the file's first bytes; ImportRefused otherwise."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(128)
    except OSError as exc:
        raise ImportRefused(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if not head:
        raise ImportRefused(f"{path}: the file is empty")
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "npz"
    if b"MATLAB 7.3" in head:
        raise ImportRefused(f"{path}: MATLAB v7.3 (HDF5) files are not supported; in MATLAB "
                            "save it with save(name, '-v7'), or export it to CSV or Parquet")
    if head.startswith(b"MATLAB") or b"MAT-file" in head:
        return "mat"
    raise ImportRefused(f"{path}: not a Parquet, NPZ or MAT file (unrecognised first bytes)")


def import_binary(path: Path, options: BinaryOptions | None = None, *,
                  work_dir: Path | None = None, progress: ProgressFn = no_progress,
                  cancel: CancelToken = NEVER_CANCELLED) -> Recording:
    """Import one Parquet/NPZ/MAT file as a validated :class:`Recording`.

    Raises ImportRefused (corrupt, unsupported, crashed or timed-out parser, no row
    accepted), UsageError for bad options, Cancelled; nothing is left behind on failure.
    """
    path = Path(path)
    opts = options or BinaryOptions()
    fmt = detect_format(path)
    size = path.stat().st_size
    timeout = opts.timeout_s or 30.0 + size / 10e6
    folder = make_work_dir(work_dir, f"plantml-{fmt}-")
    try:
        with BackgroundDigest(path, cancel) as hasher:
            progress(0.05, f"parsing {path.name} in a separate process")
            answer, stream = run_parser(path, fmt, folder, keys=opts.keys,
                                        time_column=opts.time_column, timeout_s=timeout,
                                        max_bytes=opts.max_memory_bytes, cancel=cancel)
            rec = _validate(path, fmt, opts, answer, stream, folder, progress, cancel)
            rec.provenance["sha256"] = hasher.result().sha256
        stream.unlink(missing_ok=True)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    progress(1.0, f"read {path.name}")
    log.info("%s", rec.report.summary())
    return rec


def _validate(path: Path, fmt: str, opts: BinaryOptions, answer: dict, stream: Path,
              folder: Path, progress: ProgressFn, cancel: CancelToken) -> Recording:
    if answer["empty"]:
        raise ImportRefused(f"{path}: the file holds no rows")
    chans = answer["channels"]
    tname = answer["time_column"]
    rate = opts.sample_rate or answer["sample_rate"]
    if rate is not None and not (np.isfinite(rate) and rate > 0):
        raise ImportRefused(f"{path}: sample rate {rate!r} is not a positive number of Hz")
    if tname is None and rate is None:
        raise ImportRefused(f"{path}: no time array and no sample rate in the file; "
                            "give the sample rate")
    out_t = tname or next(c for c in ("t", "time_s", "_t") if c not in chans)
    report = ValidationReport(str(path), max_listed=opts.max_listed_issues)
    for note in answer["notes"]:
        report.note(note)
    validator = RowValidator(report, resolve_policy(opts.nan_policy, chans),
                             time_order=opts.time_order)
    schema = pa.schema([pa.field(out_t, pa.float64())] + [pa.field(c, pa.float64())
                                                          for c in chans])
    spool = SpoolWriter(folder / "rows.arrows", schema)
    start = 0
    try:
        for batch in read_spool(stream):
            cancel.raise_if_cancelled()
            n = batch.num_rows
            rows = np.arange(start, start + n, dtype=np.int64)
            t = _floats(batch.column(tname))[0] if tname else rows / rate
            values, missing = {}, {}
            for c in chans:
                values[c], missing[c] = _floats(batch.column(c))
            ok = validator.check(t, values, missing, rows, ROW)
            out = {out_t: t[ok]}
            out.update({c: v[ok] for c, v in values.items()})
            spool.write_columns(out)
            start += n
            progress(0.1 + 0.9 * min(start / max(answer["rows"], 1), 1.0),
                     f"checking {path.name}")
    finally:
        spool.close()
    report.check_balance()
    if report.rows_accepted == 0:
        first = f"; first: {report.issues[0].where()}: {report.issues[0].reason}" \
            if report.issues else ""
        raise ImportRefused(f"{path}: no row was accepted ({report.rows_rejected} rejected"
                            f"{first})")
    scalars = {k: v for k, v in answer["scalars"].items()
               if k not in ("parquet_rows", "time_is_unix", "has_plantml_metadata")}
    return Recording(
        name=opts.label or path.stem, spool_path=spool.path, num_rows=report.rows_accepted,
        channels=tuple(ChannelInfo(c, opts.units.get(c, "")) for c in chans), report=report,
        time_column=out_t, sample_rate=rate, label=opts.label, owns_dir=folder,
        time_origin=UNIX if answer["scalars"].get("time_is_unix") else RELATIVE,
        provenance={"source": "file", "format": fmt, "path": str(path.resolve()),
                    "file_name": path.name, "size": path.stat().st_size, "keys": opts.keys,
                    "scalars": scalars, "notes": list(answer["notes"])})


def _floats(arr: pa.Array) -> tuple[np.ndarray, np.ndarray | None]:
    values = arr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    if not arr.null_count:
        return values, None
    nulls = arr.is_null().to_numpy(zero_copy_only=False)
    return np.where(nulls, np.nan, values), nulls
