"""Turn named arrays from NPZ or MAT files into equal-length float64 channels (child side)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

TIME_KEYS = ("t", "time", "timestamp", "time_s")
RATE_KEYS = ("fs", "sample_rate", "samplerate", "sampling_rate", "sr", "rate")
NUMERIC_KINDS = "biuf"


class Refusal(Exception):
    """The file is readable but cannot be imported; the message says why."""


@dataclass
class Columns:
    """What a reader found: channel arrays (1-D), an optional time array, scalars, notes."""

    channels: dict[str, np.ndarray] = field(default_factory=dict)
    time: np.ndarray | None = None
    time_name: str | None = None
    scalars: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def sample_rate(self) -> float | None:
        """A sample rate stored as a scalar (fs, sample_rate, ...), if any."""
        for key, value in self.scalars.items():
            if key.lower() in RATE_KEYS and value > 0:
                return float(value)
        return None


def _as_2d(name: str, arr: np.ndarray) -> np.ndarray | None:
    if arr.ndim == 1:
        return arr[:, None]
    if arr.ndim == 2:
        # Samples run along the longer axis: (n, channels) or a MATLAB row vector (1, n).
        return arr if arr.shape[0] >= arr.shape[1] else arr.T
    return None


def collect(items: Iterable[tuple[str, np.ndarray]], keys: list[str] | None) -> Columns:
    """Sort named arrays into channels, time and scalars; skip (with a note) the rest.

    ``keys`` limits the import to those names (a missing one is refused).
    """
    out = Columns()
    seen = set()
    for name, arr in items:
        seen.add(name)
        if keys is not None and name not in keys:
            continue
        if not isinstance(arr, np.ndarray) or arr.dtype.kind not in NUMERIC_KINDS:
            kind = getattr(getattr(arr, "dtype", None), "kind", type(arr).__name__)
            out.notes.append(f"skipped {name!r}: not a numeric array ({kind})")
            continue
        if arr.size == 1 and keys is None:
            out.scalars[name] = float(arr.reshape(-1)[0])
            continue
        if arr.size == 0:
            out.notes.append(f"skipped {name!r}: empty array")
            continue
        two = _as_2d(name, arr)
        if two is None:
            out.notes.append(f"skipped {name!r}: {arr.ndim}-dimensional array")
            continue
        if name.lower() in TIME_KEYS and two.shape[1] == 1 and out.time is None:
            out.time, out.time_name = two[:, 0], name
            continue
        if two.shape[1] == 1:
            out.channels[name] = two[:, 0]
        else:
            for j in range(two.shape[1]):
                out.channels[f"{name}_{j}"] = two[:, j]
    if keys is not None:
        missing = [k for k in keys if k not in seen]
        if missing:
            raise Refusal(f"no variable named {', '.join(map(repr, missing))} "
                          f"(found: {', '.join(sorted(seen))})")
    _check_lengths(out)
    return out


def _check_lengths(cols: Columns) -> None:
    if not cols.channels:
        raise Refusal("no numeric channel found" +
                      (f" ({'; '.join(cols.notes)})" if cols.notes else ""))
    lengths = {name: len(a) for name, a in cols.channels.items()}
    if cols.time is not None:
        lengths[cols.time_name or "time"] = len(cols.time)
    if len(set(lengths.values())) > 1:
        listing = ", ".join(f"{k} has {v}" for k, v in lengths.items())
        raise Refusal(f"arrays differ in length ({listing} rows); choose the keys to import")
