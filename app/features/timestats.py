"""Windowed time-domain statistics backed by the compiled ``_timestats`` kernel."""

import os

import numpy as np

# Deliberately no pure-Python fallback: a missing or broken build must fail
# loudly at import, not silently run 50x slower in the plant.
from app.features import _timestats

FEATURE_NAMES: tuple[str, ...] = (
    "mean",
    "std",
    "rms",
    "min",
    "max",
    "peak_to_peak",
    "skewness",
    "kurtosis",
    "crest_factor",
    "shape_factor",
    "impulse_factor",
    "zero_crossing_rate",
    "mean_absolute_change",
)

if len(FEATURE_NAMES) != _timestats.n_features():  # pragma: no cover - build/skew guard
    raise ImportError("app.features._timestats is out of date; rebuild the extension")

_MAX_DEFAULT_THREADS = 2


def native_module_path() -> str:
    """Return the file path of the compiled kernel that is actually loaded."""
    return _timestats.__file__


def default_threads() -> int:
    """Threads to use: ``PLANTML_THREADS`` if set, else min(cpu_count, 2)."""
    env = os.environ.get("PLANTML_THREADS", "").strip()
    if env:
        try:
            value = int(env)
        except ValueError:
            raise ValueError(f"PLANTML_THREADS must be an integer, got {env!r}") from None
        if value < 1:
            raise ValueError(f"PLANTML_THREADS must be >= 1, got {value}")
        return value
    # Capped because plant PCs also run the UI and the Modbus poller.
    return max(1, min(os.cpu_count() or 1, _MAX_DEFAULT_THREADS))


def _as_index(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    return int(value)


def windowed_time_stats(
    x: np.ndarray, window: int, hop: int, threads: int | None = None
) -> np.ndarray:
    """Return float64 stats of shape (n_channels, n_windows, len(FEATURE_NAMES)).

    ``x`` is (n_channels, n_samples), or 1-D for a single channel.  Windows of
    ``window`` samples start every ``hop`` samples and must fit entirely, so
    n_windows = 0 if n_samples < window else 1 + (n_samples - window) // hop.
    A C-contiguous float64 input is read in place, without a copy.
    """
    window = _as_index("window", window)
    hop = _as_index("hop", hop)
    if window < 2:
        raise ValueError(f"window must be >= 2 samples, got {window}")
    if hop < 1:
        raise ValueError(f"hop must be >= 1 sample, got {hop}")
    n_threads = default_threads() if threads is None else _as_index("threads", threads)
    if n_threads < 1:
        raise ValueError(f"threads must be >= 1, got {n_threads}")

    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    elif arr.ndim != 2:
        raise ValueError(f"x must be 1-D or 2-D (channels, samples), got {arr.ndim}-D")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"x must be real numeric, got dtype {arr.dtype}")
    # Returns arr itself when it is already C-contiguous float64 (no copy).
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    # The kernel hands out 16 (channel, window) pairs at a time: a second
    # thread for fewer pairs would only cost its wake-up.
    n_win = 0 if arr.shape[1] < window else 1 + (arr.shape[1] - window) // hop
    n_threads = max(1, min(n_threads, arr.shape[0] * n_win // 16))
    return _timestats.time_stats(arr, window, hop, n_threads)
