"""Top-level feature extraction: a spec and raw samples in, a (windows, features) matrix out."""

from __future__ import annotations

import numpy as np

from app.core.errors import UsageError
from app.features import condition
from app.features.spec import TIME_FEATURES, FeatureSpec
from app.features.spectral import windowed_spectral
from app.features.timestats import windowed_time_stats

# Windows per kernel call: bounds the per-call temporaries (a few MB) so the
# extra memory stays near the output size however long the recording is.
_CHUNK_WINDOWS = 16384
# Version 2 kernels return raw columns (about twice the features) before assembly.
_CHUNK_WINDOWS_V2 = 4096


def n_windows(n_samples: int, spec: FeatureSpec) -> int:
    """Windows that fit entirely in ``n_samples`` samples."""
    return 0 if n_samples < spec.window else 1 + (n_samples - spec.window) // spec.hop


def window_starts(n_samples: int, spec: FeatureSpec) -> np.ndarray:
    """Start sample of every window, int64."""
    return np.arange(n_windows(n_samples, spec), dtype=np.int64) * spec.hop


def _columns(spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """Indices into the time kernel's 13 and the spectral kernel's outputs."""
    time_idx = np.array([i for i, f in enumerate(TIME_FEATURES) if f in spec.features],
                        dtype=np.intp)
    spec_idx = [i for i, f in enumerate(("spectral_centroid", "dominant_frequency"))
                if f in spec.features]
    n_extra = (len(spec.bands) if "band_energy" in spec.features else 0) + \
        (len(spec.envelope_bands) if spec.needs_envelope else 0)
    spec_idx += list(range(2, 2 + n_extra))
    return time_idx, np.array(spec_idx, dtype=np.intp)


def _as_signal(x: np.ndarray, n_channels: int) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim == 1 and n_channels == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[0] != n_channels:
        raise UsageError(f"expected samples of shape ({n_channels} channels, n), "
                         f"got {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise UsageError(f"samples must be real numbers, got dtype {arr.dtype}")
    return arr


def _check_finite(out: np.ndarray, first: int = 0) -> None:
    bad = ~np.isfinite(out).all(axis=1)
    if bad.any():
        raise UsageError(f"window {first + int(np.argmax(bad))} holds NaN or infinite "
                         f"samples; clean the data first")


def extract(x: np.ndarray, spec: FeatureSpec, threads: int | None = None
            ) -> tuple[np.ndarray, tuple[str, ...]]:
    """Features of every window of x (channels, samples): (n_windows, n_features), names.

    Columns are channel-major, named ``<channel>.<feature>`` as in
    ``spec.feature_names()``.  Contiguous float64 channels are read in place.
    """
    arr = _as_signal(x, len(spec.channels))
    if spec.version >= 2:
        return _extract_v2(arr, spec, threads), spec.feature_names()
    n_win = n_windows(arr.shape[1], spec)
    per = len(spec.channel_feature_names())
    out = np.empty((n_win, arr.shape[0] * per))
    time_idx, spec_idx = _columns(spec)
    for c in range(arr.shape[0]):
        for start in range(0, n_win, _CHUNK_WINDOWS):
            stop = min(n_win, start + _CHUNK_WINDOWS)
            # A view of contiguous float64 input; other input is converted one
            # chunk at a time.
            seg = np.ascontiguousarray(
                arr[c, start * spec.hop:(stop - 1) * spec.hop + spec.window],
                dtype=np.float64).reshape(1, -1)
            dst = out[start:stop, c * per:(c + 1) * per]
            if time_idx.size:
                dst[:, :time_idx.size] = windowed_time_stats(
                    seg, spec.window, spec.hop, threads=threads)[0][:, time_idx]
            if spec_idx.size:
                dst[:, time_idx.size:] = windowed_spectral(seg, spec, threads=threads)[0][
                    :, spec_idx]
            _check_finite(dst, start)
    return out, spec.feature_names()


def extract_windows(windows: np.ndarray, spec: FeatureSpec, threads: int | None = None
                    ) -> np.ndarray:
    """Features of separate windows (n, channels, window) -> (n, n_features) float64.

    The same computation as ``extract`` (and as the ONNX graph), one window per row.
    """
    arr = np.asarray(windows)
    expected = (len(spec.channels), spec.window)
    if arr.ndim != 3 or arr.shape[1:] != expected:
        raise UsageError(f"expected windows of shape (n, {expected[0]}, {expected[1]}), "
                         f"got {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise UsageError(f"samples must be real numbers, got dtype {arr.dtype}")
    if spec.version >= 2:
        return _extract_windows_v2(arr, spec, threads)
    n, n_ch, length = arr.shape
    flat = np.ascontiguousarray(arr, dtype=np.float64).reshape(n * n_ch, length)
    time_idx, spec_idx = _columns(spec)
    parts = []
    if time_idx.size:
        parts.append(windowed_time_stats(flat, length, length, threads=threads)[:, 0][
            :, time_idx])
    if spec_idx.size:
        # Each row holds exactly one window, so the spec's hop does not matter.
        parts.append(windowed_spectral(flat, spec, threads=threads)[:, 0][:, spec_idx])
    out = np.concatenate(parts, axis=1).reshape(n, spec.n_features)
    _check_finite(out)
    return out


def _rows(spec: FeatureSpec) -> list[int]:
    return [spec.channels.index(c) for c in spec.analysed_channels()]


def _refuse_non_finite(row: np.ndarray, spec: FeatureSpec) -> None:
    """Refuse a row (the speed channel) with a NaN or infinite sample, naming its window;
    one pass without a temporary the size of the row."""
    if np.isfinite(row.sum()):
        return
    for lo in range(0, len(row), 1 << 16):
        bad = ~np.isfinite(row[lo:lo + (1 << 16)])
        if bad.any():
            pos = lo + int(np.argmax(bad))
            window = max(0, -(-(pos - spec.window + 1) // spec.hop))
            raise UsageError(f"window {window} holds NaN or infinite samples; clean the data "
                             "first")


def _check_raw(raw: np.ndarray, first: int = 0) -> None:
    """The version 2 kernel's ratios read NaN as 0, so bad samples are caught by the one
    column that sums every sample: the mean."""
    bad = ~np.isfinite(raw[..., 0])
    if bad.any():
        window = int(np.argmax(bad.any(axis=0))) if bad.ndim > 1 else int(np.argmax(bad))
        raise UsageError(f"window {first + window} holds NaN or infinite samples; clean the "
                         "data first")


def _extract_v2(arr: np.ndarray, spec: FeatureSpec, threads: int | None) -> np.ndarray:
    """Version 2: the condition kernel per analysed channel, a chunk of windows at a time."""
    n_win = n_windows(arr.shape[1], spec)
    per = len(spec.channel_feature_names())
    rows = _rows(spec)
    out = np.empty((n_win, len(rows) * per))
    if spec.kinematics is not None and spec.kinematics.speed_channel:
        _refuse_non_finite(arr[spec.channels.index(spec.kinematics.speed_channel)], spec)
    speed = condition.window_speed_hz(arr, spec)
    lines = condition.line_table(spec)
    for c, row in enumerate(rows):
        for start in range(0, n_win, _CHUNK_WINDOWS_V2):
            stop = min(n_win, start + _CHUNK_WINDOWS_V2)
            seg = np.ascontiguousarray(
                arr[row, start * spec.hop:(stop - 1) * spec.hop + spec.window],
                dtype=np.float64).reshape(1, -1)
            raw = condition.raw_columns(seg, spec, speed[start:stop], lines[c:c + 1],
                                        threads=threads)[0]
            _check_raw(raw, start)
            dst = out[start:stop, c * per:(c + 1) * per]
            condition.assemble(raw, spec, out=dst)
    return out


def _extract_windows_v2(arr: np.ndarray, spec: FeatureSpec, threads: int | None
                        ) -> np.ndarray:
    """Version 2 for separate windows (n, channels, window): one kernel row per window."""
    rows = _rows(spec)
    n = len(arr)
    if spec.kinematics is not None and spec.kinematics.speed_channel:
        speed_row = arr[:, spec.channels.index(spec.kinematics.speed_channel)]
        bad = ~np.isfinite(speed_row).all(axis=1)
        if bad.any():
            raise UsageError(f"window {int(np.argmax(bad))} holds NaN or infinite samples; "
                             "clean the data first")
    flat = np.ascontiguousarray(arr[:, rows, :], dtype=np.float64).reshape(
        n * len(rows), spec.window)
    speed = np.repeat(condition.window_speed_hz(arr, spec), len(rows))
    lines = np.tile(condition.line_table(spec), (n, 1))
    raw = condition.raw_columns(flat, spec, speed, lines, threads=threads)[:, 0]
    _check_raw(raw.reshape(n, len(rows), -1).transpose(1, 0, 2))
    return condition.assemble(raw, spec).reshape(n, spec.n_features)
