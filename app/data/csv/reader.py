"""Read CSV rows chunk by chunk: pyarrow parses clean chunks, faulty ones go line by line.

Each chunk holds whole lines, so every row's physical line number is known exactly and the
few chunks with a bad line cost the slow path only for themselves. Memory is bounded by the
chunk size plus the line cap, whatever the file size.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from app.core.progress import CancelToken, ProgressFn
from app.data.csv.chunks import Chunk, chunks
from app.data.csv.layout import CsvLayout
from app.data.csv.options import CsvOptions
from app.data.csv.rows import LineParser, Reject, flush_rows, take_table
from app.data.report import REJECTED, Issue, ValidationReport
from app.data.spool import SpoolWriter
from app.data.timeparse import ISO, ISO_ZONED
from app.data.validate import RowValidator

LINE_BATCH = 4096
CHUNK_BYTES = 2 << 20  # two pyarrow blocks per chunk: both cores parse
_ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError, ValueError)


def _time_type(kind: str | None) -> pa.DataType:
    if kind == ISO:
        return pa.timestamp("ns")
    if kind == ISO_ZONED:
        return pa.timestamp("ns", tz="UTC")
    return pa.float64()


class ChunkReader:
    """Parses one chunk of whole lines into the spool, recording every rejected line."""

    def __init__(self, layout: CsvLayout, opts: CsvOptions, validator: RowValidator,
                 spool: SpoolWriter, report: ValidationReport) -> None:
        self.layout, self.opts = layout, opts
        self.validator, self.spool, self.report = validator, spool, report
        self.parser = LineParser(layout, opts)
        names = [f"c{i}" for i in range(layout.n_fields)]
        include = [names[layout.time_index]] if layout.time_index is not None else []
        include += [names[i] for i in layout.channel_indexes]
        types = {names[i]: pa.float64() for i in layout.channel_indexes}
        if layout.time_index is not None:
            types[names[layout.time_index]] = _time_type(layout.time_kind)
        d = layout.dialect
        # A row longer than block_size fails to parse: pyarrow itself enforces the line cap
        # (the chunk then goes line by line, where the long line is rejected by number).
        self.read_opts = pacsv.ReadOptions(use_threads=True, column_names=names,
                                           block_size=opts.max_line_bytes)
        self.parse_opts = pacsv.ParseOptions(delimiter=d.delimiter, quote_char=opts.quotechar,
                                             ignore_empty_lines=False)
        self.convert_opts = pacsv.ConvertOptions(
            column_types=types, include_columns=include, null_values=list(opts.missing_values),
            strings_can_be_null=True, quoted_strings_can_be_null=True, decimal_point=d.decimal)
        self.quote = opts.quotechar.encode()
        self.next_line = layout.first_data_line

    def reject(self, line: int, reason: str) -> None:
        self.report.add_issue(Issue(line, None, None, reason, REJECTED))
        self.report.count_rows(0, 1)

    def parse(self, chunk: Chunk) -> pa.Table | None:
        """pyarrow's parse of a chunk, or None if it cannot (runs on the worker thread)."""
        buf = pa.py_buffer(chunk.buf).slice(chunk.begin, chunk.end - chunk.begin)
        try:
            return pacsv.read_csv(pa.BufferReader(buf), read_options=self.read_opts,
                                  parse_options=self.parse_opts,
                                  convert_options=self.convert_opts)
        except _ARROW_ERRORS:
            return None

    def take(self, chunk: Chunk, table: pa.Table | None) -> None:
        """Spool the rows of ``chunk``: from ``table`` if it parsed every line, else line by
        line. Keeps :attr:`next_line`, the number of the chunk's first line."""
        start = self.next_line
        if chunk.buf is None:
            self.reject(start, f"line longer than {self.opts.max_line_bytes} bytes")
            self.next_line += 1
            return
        # Without quotes or CRs, pyarrow ends a row exactly at each newline; otherwise count.
        plain = table is not None and not chunk.has(self.quote) and not chunk.has(b"\r")
        n = table.num_rows if plain and table is not None else chunk.count_lines()
        if table is not None and table.num_rows == n:
            for batch in table.to_batches():  # contiguous columns: no copy
                take_table(batch, self.layout, self.opts, np.arange(start, start + len(batch)),
                           self.validator, self.spool, self.report)
                start += len(batch)
        else:
            self.take_lines(chunk.bytes(), start)
        self.next_line += n

    def take_lines(self, data: bytes, start: int) -> None:
        lines = data.split(b"\n")
        if data.endswith(b"\n"):
            lines.pop()
        rows = []
        cap = self.opts.max_line_bytes
        for line_no, raw in enumerate(lines, start=start):
            try:
                if len(raw) > cap:
                    raise Reject(f"line longer than {cap} bytes")
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    raise Reject(f"not valid UTF-8 text ({exc.reason} at byte "
                                 f"{exc.start + 1} of the line)") from None
                rows.append((line_no, *self.parser.parse(text, line_no)))
            except Reject as exc:
                self.reject(line_no, str(exc))
            if len(rows) >= LINE_BATCH:  # Python rows are bulky: keep few of them alive
                flush_rows(rows, self.layout, self.validator, self.spool)
                rows = []
        flush_rows(rows, self.layout, self.validator, self.spool)


def _chunks(fh, layout: CsvLayout, opts: CsvOptions) -> Iterator[Chunk]:
    """The file's chunks, the header line (if any) left out."""
    header = layout.dialect.header
    for raw in chunks(fh, layout.dialect.encoding, opts.max_line_bytes, CHUNK_BYTES):
        chunk = raw
        if header:
            header = False
            if raw.buf is None:
                continue  # an over-long header line: detection already refused or named it
            cut = raw.buf.find(b"\n", raw.begin, raw.end)
            chunk = Chunk(raw.buf, cut + 1 if cut >= 0 else raw.end, raw.end)
        if chunk.buf is None or chunk.end > chunk.begin:
            yield chunk


def read_rows(path: Path, layout: CsvLayout, opts: CsvOptions, validator: RowValidator,
              spool: SpoolWriter, report: ValidationReport, progress: ProgressFn,
              cancel: CancelToken, *, line_by_line: bool = False) -> None:
    """Read every data line of ``path`` into ``spool``; raises Cancelled or OSError.

    One worker thread parses the next chunk while this one validates and spools the
    current: pyarrow releases the GIL, so both cores stay busy. ``line_by_line`` skips
    pyarrow (tests compare both ways of reading).
    """
    reader = ChunkReader(layout, opts, validator, spool, report)
    size = max(path.stat().st_size, 1)
    pending = None
    with open(path, "rb") as fh, ThreadPoolExecutor(1, thread_name_prefix="plantml-csv") as pool:
        for chunk in _chunks(fh, layout, opts):
            cancel.raise_if_cancelled()
            parsing = pool.submit(reader.parse, chunk) if chunk.buf is not None and \
                not line_by_line else None
            if pending is not None:
                reader.take(pending[0], pending[1].result() if pending[1] else None)
            pending = (chunk, parsing)
            progress(min(fh.tell() / size, 0.99), f"reading {path.name}")
        if pending is not None:
            reader.take(pending[0], pending[1].result() if pending[1] else None)
