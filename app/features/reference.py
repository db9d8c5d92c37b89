"""NumPy reference for ``windowed_time_stats``, used to check the compiled kernel."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

N_FEATURES = 13

# Upper bound on window samples materialised per block; keeps the temporaries
# (several arrays of this size) to tens of MB even for hop=1 on long signals.
_BLOCK_ELEMENTS = 1 << 21


def _block_stats(w: np.ndarray) -> np.ndarray:
    """Stats for w of shape (..., L) -> (..., 13); same definitions as the kernel."""
    n = w.shape[-1]
    mean = w.mean(axis=-1)
    mn = w.min(axis=-1)
    mx = w.max(axis=-1)
    constant = mx == mn

    # Two-pass central moments, d**3 and d**4 formed as d2*d and d2*d2 like the
    # kernel, then shifted by delta = mean(d), the rounding error of the mean.
    d = w - mean[..., None]
    delta = np.where(constant, 0.0, d.mean(axis=-1))
    d2 = d * d
    r2 = d2.mean(axis=-1)
    r3 = (d2 * d).mean(axis=-1)
    r4 = (d2 * d2).mean(axis=-1)
    m4 = r4 - 4.0 * delta * r3 + 6.0 * delta * delta * r2 - 3.0 * delta * delta * delta * delta
    m3 = r3 - 3.0 * delta * r2 + 2.0 * delta * delta * delta
    m2 = r2 - delta * delta
    mean = mean + delta
    # A constant window has exactly zero spread, whatever the rounded mean is.
    m2 = np.where(constant, 0.0, m2)
    has_spread = m2 > 0.0
    safe_m2 = np.where(has_spread, m2, 1.0)
    std = np.where(has_spread, np.sqrt(safe_m2), 0.0)
    skew = np.where(has_spread, m3 / (safe_m2 * np.sqrt(safe_m2)), 0.0)
    kurt = np.where(has_spread, m4 / (safe_m2 * safe_m2) - 3.0, 0.0)

    absw = np.abs(w)
    rms = np.sqrt((w * w).mean(axis=-1))
    meanabs = absw.mean(axis=-1)
    maxabs = absw.max(axis=-1)

    def ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
        ok = den > 0.0
        return np.where(ok, num / np.where(ok, den, 1.0), 0.0)

    nonneg = w >= 0.0
    zcr = np.count_nonzero(nonneg[..., 1:] != nonneg[..., :-1], axis=-1) / (n - 1)
    mac = np.abs(np.diff(w, axis=-1)).sum(axis=-1) / (n - 1)

    return np.stack(
        [
            mean,
            std,
            rms,
            mn,
            mx,
            mx - mn,
            skew,
            kurt,
            ratio(maxabs, rms),
            ratio(rms, meanabs),
            ratio(maxabs, meanabs),
            zcr,
            mac,
        ],
        axis=-1,
    )


def reference_time_stats(x: np.ndarray, window: int, hop: int) -> np.ndarray:
    """Return (n_channels, n_windows, 13) float64 stats, like ``windowed_time_stats``."""
    if window < 2:
        raise ValueError(f"window must be >= 2 samples, got {window}")
    if hop < 1:
        raise ValueError(f"hop must be >= 1 sample, got {hop}")
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise ValueError(f"x must be 1-D or 2-D (channels, samples), got {arr.ndim}-D")
    n_ch, n_samples = arr.shape
    n_win = 0 if n_samples < window else 1 + (n_samples - window) // hop
    out = np.zeros((n_ch, n_win, N_FEATURES), dtype=np.float64)
    if n_win == 0 or n_ch == 0:
        return out

    # (n_ch, n_win, window) view, no copy; the Python loop is over blocks only.
    views = sliding_window_view(arr, window, axis=-1)[:, ::hop]
    step = max(1, _BLOCK_ELEMENTS // (n_ch * window))
    for start in range(0, n_win, step):
        out[:, start : start + step] = _block_stats(views[:, start : start + step])
    return out
