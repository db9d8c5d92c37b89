"""One entry point for file import: picks the CSV or the sandboxed binary importer."""

from __future__ import annotations

from pathlib import Path

from app.core.errors import UsageError
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.data.binary.importer import BinaryOptions, import_binary
from app.data.csv.importer import import_csv
from app.data.csv.options import CsvOptions
from app.data.errors import ImportRefused
from app.data.recording import Recording

TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".dat")
BINARY_SUFFIXES = (".parquet", ".pq", ".npz", ".mat")


def file_kind(path: Path) -> str:
    """'csv' or 'binary' from the file name; ImportRefused for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "csv"
    if suffix in BINARY_SUFFIXES:
        return "binary"
    raise ImportRefused(f"{path}: unknown file type {suffix or '(none)'!r}; PlantML imports "
                        f"{', '.join(TEXT_SUFFIXES + BINARY_SUFFIXES)}")


def import_file(path: Path, options: CsvOptions | BinaryOptions | None = None, *,
                work_dir: Path | None = None, progress: ProgressFn = no_progress,
                cancel: CancelToken = NEVER_CANCELLED) -> Recording:
    """Import ``path`` into a validated, spooled :class:`Recording`.

    ``options`` must match the kind of file (CsvOptions for text, BinaryOptions for
    Parquet/NPZ/MAT). Raises ImportRefused, UsageError or Cancelled; on failure nothing is
    returned and no spool is left behind. The caller owns the result: write the snapshot,
    then call ``Recording.discard()``.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"{path}: no such file")
    if file_kind(path) == "csv":
        if options is not None and not isinstance(options, CsvOptions):
            raise UsageError(f"{path}: a CSV file takes CsvOptions")
        return import_csv(path, options, work_dir=work_dir, progress=progress, cancel=cancel)
    if options is not None and not isinstance(options, BinaryOptions):
        raise UsageError(f"{path}: a {path.suffix} file takes BinaryOptions")
    return import_binary(path, options, work_dir=work_dir, progress=progress, cancel=cancel)
