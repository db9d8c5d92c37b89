"""Operating conditions of recordings: checked text, a per-file side file, a channel's mean."""

# A condition names what a recording was taken under: a load, a speed, a machine, a day
# ("load=0hp", "speed=1500rpm", "machine=P-101"). Validation trains on all conditions but
# one and tests on that one, in turn, so recordings of the same condition must carry the
# same text: a channel's mean is therefore rounded (to a step, or three significant
# figures) before it names a condition.

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from app.core.errors import UsageError
from app.data.errors import ImportRefused

MAX_LENGTH = 80
#: Header names accepted in a side file (first row), case-insensitive.
FILE_COLUMNS = ("file", "filename", "path")
CONDITION_COLUMNS = ("condition",)
MAX_SIDE_FILE_BYTES = 1 << 20


def check_condition(text: str, where: str) -> str:
    """``text`` stripped; UsageError naming ``where`` for control characters or > 80
    characters. '' means no condition."""
    value = str(text).strip()
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise UsageError(f"{where}: the condition {value!r} holds a control character")
    if len(value) > MAX_LENGTH:
        raise UsageError(f"{where}: the condition is {len(value)} characters long; at most "
                         f"{MAX_LENGTH} (e.g. load=0hp, speed=1500rpm)")
    return value


def read_condition_file(path: Path) -> dict[str, str]:
    """File name -> condition from a CSV side file (UTF-8, comma, semicolon or tab; a header
    row with the columns ``file`` and ``condition``). ImportRefused names the line of every
    problem: a missing column, an empty file name, a file listed twice."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportRefused(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    if len(raw) > MAX_SIDE_FILE_BYTES:
        raise ImportRefused(f"{path}: a condition file holds at most "
                            f"{MAX_SIDE_FILE_BYTES // 1024} KB")
    try:
        text = raw.decode("utf-8-sig")  # Excel writes a byte order mark
    except UnicodeDecodeError as exc:
        raise ImportRefused(f"{path}: not UTF-8 text (byte {exc.start}); save it as CSV "
                            "UTF-8") from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise ImportRefused(f"{path}: empty; the first line names the columns file and "
                            "condition")
    delimiter = max(",;\t", key=lines[0].count)
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    header = [h.strip().lower() for h in rows[0]]
    col_file = next((header.index(n) for n in FILE_COLUMNS if n in header), None)
    col_cond = next((header.index(n) for n in CONDITION_COLUMNS if n in header), None)
    if col_file is None or col_cond is None:
        raise ImportRefused(f"{path} line 1: the header must name the columns file and "
                            f"condition (found {', '.join(header) or 'nothing'})")
    out: dict[str, str] = {}
    seen: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(col_file, col_cond):
            raise ImportRefused(f"{path} line {number}: {len(row)} field(s); expected a file "
                                "and a condition")
        name = row[col_file].strip()
        if not name:
            raise ImportRefused(f"{path} line {number}: the file name is empty")
        key = name.casefold()
        if key in seen:
            raise ImportRefused(f"{path} line {number}: {name} is listed again (first on "
                                f"line {seen[key]})")
        seen[key] = number
        out[name] = check_condition(row[col_cond], f"{path} line {number}")
    return out


def _keys(path: Path) -> set[str]:
    """How a side file or the command line may name a file: as given, by name or by stem
    (compared without case, as Windows does)."""
    return {str(path).casefold(), path.name.casefold(), path.stem.casefold()}


def conditions_for(paths: Sequence[Path], *, per_file: Mapping[str, str] | None = None,
                   default: str = "") -> list[str]:
    """The condition of each file: its entry in ``per_file`` (matched by path, file name or
    stem), else ``default``. UsageError for an entry that matches none of the files (a typo
    must not silently leave a file without its condition) or more than one."""
    per_file = dict(per_file or {})
    default = check_condition(default, "the condition of every file")
    keys = [_keys(Path(p)) for p in paths]
    out = [default] * len(paths)
    for name, cond in per_file.items():
        hits = [i for i, k in enumerate(keys) if name.strip().casefold() in k]
        if not hits:
            listed = ", ".join(Path(p).name for p in paths)
            raise UsageError(f"the condition for {name!r} names no file of this import "
                             f"({listed})")
        if len(hits) > 1:
            raise UsageError(f"the condition for {name!r} matches {len(hits)} files; give the "
                             "file name with its extension")
        out[hits[0]] = check_condition(cond, f"the condition of {name}")
    return out


def rounded(value: float, step: float | None) -> float:
    """``value`` to the nearest multiple of ``step``, or to three significant figures."""
    if step is not None:
        if not (math.isfinite(step) and step > 0):
            raise UsageError(f"the condition step must be a positive number, not {step!r}")
        return round(value / step) * step
    if value == 0:
        return 0.0
    return float(f"{value:.3g}")


def channel_condition(name: str, unit: str, blocks: Iterable[np.ndarray],
                      step: float | None = None, where: str = "") -> str:
    """``name=VALUEunit`` from the mean of a channel's finite samples (streamed in blocks),
    rounded; UsageError when the channel holds no finite sample."""
    total, count = 0.0, 0
    for block in blocks:
        values = np.asarray(block, dtype=np.float64)
        finite = values[np.isfinite(values)]
        total += float(finite.sum())
        count += finite.size
    if count == 0:
        raise UsageError(f"{where or name}: channel {name} holds no finite value to take the "
                         "condition from")
    value = rounded(total / count, step)
    return check_condition(f"{name}={value:g}{unit}", where or name)
