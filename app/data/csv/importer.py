"""Import a CSV file: detect the dialect, stream it fast, fall back to per-line reading."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pyarrow as pa

from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.data.csv.detect import detect
from app.data.csv.layout import CsvLayout, build_layout
from app.data.csv.options import CsvOptions
from app.data.csv.reader import read_rows
from app.data.errors import ImportRefused
from app.data.filehash import BackgroundDigest
from app.data.recording import RELATIVE, UNIX, Recording
from app.data.report import ValidationReport
from app.data.spool import SpoolWriter, make_work_dir
from app.data.timeparse import NUMERIC
from app.data.validate import RowValidator, resolve_policy

log = logging.getLogger(__name__)


def import_csv(path: Path, options: CsvOptions | None = None, *, work_dir: Path | None = None,
               progress: ProgressFn = no_progress, cancel: CancelToken = NEVER_CANCELLED,
               careful: bool = False) -> Recording:
    """Read a multichannel CSV into a validated :class:`Recording` (rows spooled to disk).

    ``careful`` reads every line in Python (tests compare it with the pyarrow path). Raises
    ImportRefused (with file and line) when the file cannot be imported or no row is
    accepted, UsageError for contradictory options, Cancelled; nothing is left on failure.
    """
    path = Path(path)
    opts = options or CsvOptions()
    if opts.sample_rate is not None and not opts.sample_rate > 0:
        raise ImportRefused(f"{path}: sample rate must be a positive number of Hz")
    dialect, lines = detect(path, encoding=opts.encoding, delimiter=opts.delimiter,
                            decimal=opts.decimal, header=opts.header,
                            missing=opts.missing_values)
    layout = build_layout(path, dialect, lines, opts)
    policy = resolve_policy(opts.nan_policy, [c.name for c in layout.channels])
    folder = make_work_dir(work_dir, "plantml-csv-")
    try:
        with BackgroundDigest(path, cancel) as hasher:
            report, spool = _run(path, layout, opts, policy, folder, progress, cancel, careful)
            digest = hasher.result().sha256
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise ImportRefused(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    report.sort()
    report.check_balance()
    if report.rows_accepted == 0:
        shutil.rmtree(folder, ignore_errors=True)
        first = f"; first: {report.issues[0].where()}: {report.issues[0].reason}" \
            if report.issues else ""
        raise ImportRefused(f"{path}: no row was accepted ({report.rows_rejected} rejected"
                            f"{first})")
    progress(1.0, f"read {path.name}")
    log.info("%s", report.summary())
    return Recording(
        name=opts.label or path.stem, channels=tuple(layout.channels), spool_path=spool.path,
        num_rows=report.rows_accepted, report=report, time_column=layout.time_name,
        time_origin=RELATIVE if layout.time_kind in (None, NUMERIC) else UNIX,
        sample_rate=opts.sample_rate, label=opts.label, owns_dir=folder,
        provenance=_provenance(path, layout, digest, opts))


def _run(path: Path, layout: CsvLayout, opts: CsvOptions, policy: dict[str, str], folder: Path,
         progress: ProgressFn, cancel: CancelToken, careful: bool
         ) -> tuple[ValidationReport, SpoolWriter]:
    schema = pa.schema([pa.field(layout.time_name, pa.float64())] +
                       [pa.field(c.name, pa.float64()) for c in layout.channels])
    report = ValidationReport(str(path), max_listed=opts.max_listed_issues)
    d = layout.dialect
    report.note(f"read as {d.encoding}, delimiter {d.delimiter!r}, decimal mark {d.decimal!r}, "
                f"{'a header line' if d.header else 'no header line'}, time from "
                + (f"column {layout.time_name!r}" if layout.time_index is not None
                   else f"the sample rate ({opts.sample_rate:g} Hz)"))
    spool = SpoolWriter(folder / "rows.arrows", schema)
    try:
        read_rows(path, layout, opts, RowValidator(report, policy, time_order=opts.time_order),
                  spool, report, progress, cancel, line_by_line=careful)
    finally:
        # No fsync: a crash before the snapshot is written means importing again anyway.
        spool.close(sync=False)
    return report, spool


def _provenance(path: Path, layout: CsvLayout, digest: str, opts: CsvOptions) -> dict:
    d = layout.dialect
    return {"source": "file", "format": "csv", "path": str(path.resolve()),
            "file_name": path.name, "size": path.stat().st_size, "sha256": digest,
            "encoding": d.encoding, "delimiter": d.delimiter, "decimal": d.decimal,
            "header": d.header, "time_column": layout.names[layout.time_index]
            if layout.time_index is not None else None, "time_kind": layout.time_kind,
            "sample_rate": opts.sample_rate,
            "nan_policy": opts.nan_policy if isinstance(opts.nan_policy, str)
            else dict(opts.nan_policy), "time_order": opts.time_order}
