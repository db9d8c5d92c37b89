"""What a CSV import may be told: dialect, time base, channels and the NaN/inf policy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

#: Field texts read as "no value" (the NaN policy's 'missing' case), compared after strip().
MISSING_VALUES = ("", "NA", "N/A", "n/a", "null", "NULL", "None")


@dataclass
class CsvOptions:
    """Choices for :func:`app.data.csv.importer.import_csv`; None means detect from the file.

    ``time_column`` is a header name or a 0-based column index; without one (and none named
    like 'time' or 'timestamp') ``sample_rate`` in Hz is required. ``columns`` picks the
    channels (default: every column but time). ``nan_policy`` is 'reject', 'keep' or 'flag',
    or a mapping {column or '*': policy}; it covers NaN, inf (and values like 1e309 that
    overflow to inf) and missing values. ``time_order`` says what a time that does not
    increase does to its row: 'reject' or 'flag'. ``units`` overrides units per channel.
    """

    encoding: str | None = None
    delimiter: str | None = None
    decimal: str | None = None
    header: bool | None = None
    quotechar: str = '"'
    time_column: str | int | None = None
    sample_rate: float | None = None
    columns: list[str] | None = None
    nan_policy: str | Mapping[str, str] = "reject"
    time_order: str = "reject"
    units: Mapping[str, str] = field(default_factory=dict)
    label: str | None = None
    max_line_bytes: int = 1 << 20
    max_listed_issues: int = 100_000
    missing_values: tuple[str, ...] = MISSING_VALUES
    #: Lines per batch on the careful path; rows per spool batch.
    batch_rows: int = 65_536
