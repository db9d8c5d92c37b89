"""Work out a CSV file's columns: names and units from the header, the time column, channels."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from app.core.records import ChannelInfo
from app.data.csv.detect import Dialect, looks_numeric
from app.data.csv.options import CsvOptions
from app.data.errors import ImportRefused
from app.data.timeparse import NUMERIC, time_kind

TIME_NAMES = ("time", "t", "timestamp", "datetime", "date_time", "time_s", "seconds", "zeit")
_UNIT = re.compile(r"^(.*?)\s*[\[(]([^\[\]()]*)[\])]\s*$")


@dataclass(frozen=True)
class CsvLayout:
    """Everything the readers need besides the dialect; indexes are 0-based field numbers."""

    dialect: Dialect
    n_fields: int
    names: list[str]
    time_index: int | None
    time_name: str
    time_kind: str | None
    channel_indexes: list[int]
    channels: list[ChannelInfo]
    first_data_line: int


def split_line(line: str, dialect: Dialect, quotechar: str = '"') -> list[str]:
    """Fields of one line; csv.Error for broken quoting (the caller names the line)."""
    line = line.rstrip("\r\n")
    if quotechar not in line:
        return line.split(dialect.delimiter)
    return next(csv.reader([line], delimiter=dialect.delimiter, quotechar=quotechar,
                           strict=True))


def _name_and_unit(raw: str) -> tuple[str, str]:
    match = _UNIT.match(raw.strip())
    if match and match.group(1):
        return match.group(1).strip(), match.group(2).strip()
    return raw.strip(), ""


def _header_names(path: Path, line: str, dialect: Dialect, quotechar: str) -> list[str]:
    if "\ufffd" in line or "\x00" in line:
        raise ImportRefused(f"{path}: line 1 (the header) is not valid {dialect.encoding} "
                            "text or holds NUL bytes; choose the right encoding")
    try:
        raw = split_line(line, dialect, quotechar)
    except csv.Error as exc:
        raise ImportRefused(f"{path}: line 1 (the header) has broken quoting: {exc}") from exc
    seen: dict[str, int] = {}
    for i, name in enumerate(raw):
        if not name.strip():
            raise ImportRefused(f"{path}: line 1: column {i + 1} has an empty name in the "
                                "header; name it or remove the column")
        key = _name_and_unit(name)[0]
        if key in seen:
            raise ImportRefused(f"{path}: line 1: column name {key!r} appears twice "
                                f"(columns {seen[key] + 1} and {i + 1}); names must be unique")
        seen[key] = i
    return raw


def _time_index(path: Path, names: list[str], opts: CsvOptions) -> int | None:
    if isinstance(opts.time_column, int):
        if not 0 <= opts.time_column < len(names):
            raise ImportRefused(f"{path}: time column index {opts.time_column} is out of "
                                f"range (the file has {len(names)} columns)")
        return opts.time_column
    if isinstance(opts.time_column, str):
        if opts.time_column not in names:
            raise ImportRefused(f"{path}: no column named {opts.time_column!r} for the time "
                                f"(columns: {', '.join(names)})")
        return names.index(opts.time_column)
    lowered = [n.lower() for n in names]
    for cand in TIME_NAMES:
        if cand in lowered:
            return lowered.index(cand)
    return None


def build_layout(path: Path, dialect: Dialect, lines: list[str], opts: CsvOptions) -> CsvLayout:
    """Resolve names, units, time column and channels; ImportRefused names what is wrong."""
    q = opts.quotechar
    if dialect.header:
        raw = _header_names(path, lines[0], dialect, q)
        data_lines = lines[1:]
    else:
        try:
            n = len(split_line(lines[0], dialect, q))
        except csv.Error as exc:
            raise ImportRefused(f"{path}: line 1 has broken quoting: {exc}") from exc
        raw = [f"column_{i + 1}" for i in range(n)]
        data_lines = lines
    pairs = [_name_and_unit(r) for r in raw]
    names = [p[0] for p in pairs]
    time_index = _time_index(path, names, opts)
    if time_index is None and opts.sample_rate is None:
        raise ImportRefused(f"{path}: no time column found (looked for {', '.join(TIME_NAMES)})"
                            " and no sample rate given; choose a time column or a sample rate")
    kind = None
    if time_index is not None:
        kind = _time_kind(path, data_lines, dialect, time_index, names[time_index], q)
    if opts.columns is not None:
        missing = [c for c in opts.columns if c not in names]
        if missing:
            raise ImportRefused(f"{path}: no column named {', '.join(map(repr, missing))} "
                                f"(columns: {', '.join(names)})")
        indexes = [names.index(c) for c in opts.columns if names.index(c) != time_index]
    else:
        indexes = [i for i in range(len(names)) if i != time_index]
    if not indexes:
        raise ImportRefused(f"{path}: no channel columns besides the time column")
    _check_numeric(path, data_lines, dialect, indexes, names, opts)
    channels = [ChannelInfo(names[i], opts.units.get(names[i], pairs[i][1])) for i in indexes]
    time_name = names[time_index] if time_index is not None else \
        next(c for c in ("t", "time_s", "_t") if c not in names)
    return CsvLayout(dialect, len(names), names, time_index, time_name, kind, indexes,
                     channels, 2 if dialect.header else 1)


def _time_kind(path: Path, data_lines: list[str], dialect: Dialect, index: int, name: str,
               quotechar: str) -> str:
    for line in data_lines:
        try:
            fields = split_line(line, dialect, quotechar)
        except csv.Error:
            continue
        if len(fields) > index and fields[index].strip():
            kind = time_kind(fields[index], dialect.decimal)
            if kind is None:
                raise ImportRefused(f"{path}: time column {name!r} holds "
                                    f"{fields[index].strip()[:40]!r}: neither seconds nor an "
                                    "ISO 8601 date-time")
            return kind
    return NUMERIC


def _check_numeric(path: Path, data_lines: list[str], dialect: Dialect, indexes: list[int],
                   names: list[str], opts: CsvOptions) -> None:
    """Refuse a channel whose sampled values are all text: every row would be rejected."""
    rows = []
    for line in data_lines[:20]:
        try:
            rows.append(split_line(line, dialect, opts.quotechar))
        except csv.Error:
            continue
    rows = [r for r in rows if len(r) == len(names)]
    if len(rows) < 3:
        return
    for i in indexes:
        if not any(looks_numeric(r[i], dialect.decimal, opts.missing_values) for r in rows):
            raise ImportRefused(f"{path}: column {names[i]!r} is not numeric (e.g. "
                                f"{rows[0][i].strip()[:40]!r}); choose the channels to import")
