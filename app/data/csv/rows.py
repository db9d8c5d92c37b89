"""Turn parsed CSV rows into validated spool batches: from pyarrow columns or line by line."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow as pa

from app.data.csv.layout import CsvLayout, split_line
from app.data.csv.options import CsvOptions
from app.data.report import REJECTED, Issue, ValidationReport
from app.data.spool import SpoolWriter
from app.data.timeparse import NUMERIC, parse_iso_seconds
from app.data.validate import LINE, RowValidator

EMPTY_ROW = "no values (empty line)"


class Reject(Exception):
    """A line that cannot become a row; the message is the reason."""


class LineParser:
    """Turns one line's text into (time, values, missing flags) or raises :class:`Reject`."""

    def __init__(self, layout: CsvLayout, opts: CsvOptions) -> None:
        self.layout, self.opts = layout, opts
        self.comma = layout.dialect.decimal == ","
        self.missing = set(opts.missing_values)
        self.encoding = layout.dialect.encoding

    def number(self, text: str, what: str) -> tuple[float, bool]:
        text = text.strip()
        if text in self.missing:
            return np.nan, True
        try:
            if "_" in text:  # float() takes 1_000; a CSV writer never means that
                raise ValueError(text)
            return float(text.replace(",", ".") if self.comma else text), False
        except ValueError:
            raise Reject(f"text in numeric {what}: {text[:40]!r}") from None

    def parse(self, line: str, line_no: int) -> tuple[float, list[float], list[bool]]:
        lay = self.layout
        if "\ufffd" in line:
            raise Reject(f"not valid {self.encoding} text")
        if "\x00" in line:
            raise Reject("NUL byte in line")
        if not line.strip("\r\n"):
            raise Reject(EMPTY_ROW)
        try:
            fields = split_line(line, lay.dialect, self.opts.quotechar)
        except csv.Error as exc:
            raise Reject("unterminated quote" if "end of data" in str(exc)
                         else f"broken quoting: {exc}") from None
        if len(fields) != lay.n_fields:
            raise Reject(f"expected {lay.n_fields} fields, found {len(fields)}")
        vals, miss = [], []
        for i, ch in zip(lay.channel_indexes, lay.channels, strict=True):
            v, m = self.number(fields[i], f"column {ch.name!r}")
            vals.append(v)
            miss.append(m)
        if lay.time_index is None:
            if all(miss):
                raise Reject(EMPTY_ROW)
            assert self.opts.sample_rate is not None  # layout() demands it without a time column
            return (line_no - lay.first_data_line) / self.opts.sample_rate, vals, miss
        text = fields[lay.time_index].strip()
        if all(miss) and not text:
            raise Reject(EMPTY_ROW)
        if lay.time_kind == NUMERIC:
            return self.number(text, f"time column {lay.time_name!r}")[0], vals, miss
        try:
            return (parse_iso_seconds(text) if text else np.nan), vals, miss
        except ValueError:
            raise Reject(f"time {text[:40]!r} is not an ISO 8601 date-time") from None


def flush_rows(rows: list, layout: CsvLayout, validator: RowValidator, spool: SpoolWriter) -> None:
    """Validate rows made by :class:`LineParser` ((line, t, values, missing) each) and spool."""
    if not rows:
        return
    n = len(rows)
    positions = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    t = np.fromiter((r[1] for r in rows), dtype=np.float64, count=n)
    vals = np.array([r[2] for r in rows], dtype=np.float64).reshape(n, -1)
    miss = np.array([r[3] for r in rows], dtype=bool).reshape(n, -1)
    values = {ch.name: vals[:, j] for j, ch in enumerate(layout.channels)}
    missing = {ch.name: (miss[:, j] if miss[:, j].any() else None)
               for j, ch in enumerate(layout.channels)}
    _spool(t, values, missing, positions, layout, validator, spool)


def take_table(table: pa.RecordBatch, layout: CsvLayout, opts: CsvOptions,
               positions: np.ndarray, validator: RowValidator, spool: SpoolWriter,
               report: ValidationReport) -> None:
    """Validate rows parsed by pyarrow (time column first, then channels) and spool them."""
    cols = table.columns
    values: dict[str, np.ndarray] = {}
    missing: dict[str, np.ndarray | None] = {}
    offset = 1 if layout.time_index is not None else 0
    all_null = np.ones(table.num_rows, dtype=bool)
    for ch, arr in zip(layout.channels, cols[offset:], strict=True):
        values[ch.name] = arr.to_numpy(zero_copy_only=False)
        nulls = arr.is_null().to_numpy(zero_copy_only=False) if arr.null_count else None
        missing[ch.name] = nulls
        all_null &= nulls if nulls is not None else False
    if layout.time_index is not None:
        tarr = cols[0]
        if pa.types.is_timestamp(tarr.type):
            tarr = tarr.cast(pa.int64())
            t = tarr.to_numpy(zero_copy_only=False).astype(np.float64) / 1e9
        else:
            t = tarr.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        if tarr.null_count:
            tnull = tarr.is_null().to_numpy(zero_copy_only=False)
            t = np.where(tnull, np.nan, t)
            all_null &= tnull
        else:
            all_null[:] = False
    else:
        t = (positions - layout.first_data_line) / opts.sample_rate
    if all_null.any():
        for pos in positions[all_null]:
            report.add_issue(Issue(int(pos), None, None, EMPTY_ROW, REJECTED))
        report.count_rows(0, int(all_null.sum()))
        keep = ~all_null
        t, positions = t[keep], positions[keep]
        values = {k: v[keep] for k, v in values.items()}
        missing = {k: (m[keep] if m is not None else None) for k, m in missing.items()}
    _spool(t, values, missing, positions, layout, validator, spool)


def _spool(t: np.ndarray, values: dict, missing: dict, positions: np.ndarray, layout: CsvLayout,
           validator: RowValidator, spool: SpoolWriter) -> None:
    accepted = validator.check(t, values, missing, positions, LINE)
    if accepted.all():  # the common case: no copy
        spool.write_columns({layout.time_name: t, **values})
        return
    out = {layout.time_name: t[accepted]}
    out.update({k: v[accepted] for k, v in values.items()})
    spool.write_columns(out)
