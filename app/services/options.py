"""Import options from plain values, so front ends need not know the data package."""

from __future__ import annotations

from app.data.binary.importer import BinaryOptions
from app.data.csv.options import CsvOptions


def csv_options(*, delimiter: str | None = None, decimal: str | None = None,
                encoding: str | None = None, time_column: str | None = None,
                sample_rate: float | None = None, nan_policy: str = "reject",
                label: str | None = None, no_header: bool = False) -> CsvOptions:
    """CSV options; None leaves a choice to detection."""
    return CsvOptions(delimiter=delimiter, decimal=decimal, encoding=encoding,
                      header=False if no_header else None, time_column=time_column,
                      sample_rate=sample_rate, nan_policy=nan_policy, label=label)


def binary_options(*, keys: list[str] | None = None, sample_rate: float | None = None,
                   label: str | None = None, nan_policy: str = "reject") -> BinaryOptions:
    """Parquet/NPZ/MAT options."""
    return BinaryOptions(keys=keys, sample_rate=sample_rate, label=label,
                         nan_policy=nan_policy)
