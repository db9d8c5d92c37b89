"""NumPy reference for the spectral kernel (block-vectorised; same definitions, used for parity)."""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# Upper bound on window samples per block: keeps the complex temporaries
# (several arrays of this many values) to tens of MB.
_BLOCK_ELEMENTS = 1 << 20


def _power(spectrum: np.ndarray, scale: float) -> np.ndarray:
    """One-sided power m_k |X_k|^2 * scale (m_k = 1 at DC and Nyquist, else 2)."""
    p = spectrum.real**2 + spectrum.imag**2
    p[..., 1:-1] *= 2.0
    return p * scale


def _band_sums(p: np.ndarray, ranges: np.ndarray) -> list[np.ndarray]:
    return [p[..., lo:hi].sum(axis=-1) for lo, hi in ranges]


def windowed_power(w: np.ndarray, win: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """rfft of the mean-removed, windowed w (..., L), its one-sided power and total power."""
    length = w.shape[-1]
    mean = w.mean(axis=-1, keepdims=True)
    spec = np.fft.rfft((w - mean) * win, axis=-1)
    p = _power(spec, 1.0 / (length * float(np.square(win).sum())))
    return spec, p, p.sum(axis=-1)


def block_spectral(w: np.ndarray, win: np.ndarray, sample_rate: float, bands: np.ndarray,
                   demod_lo: int, demod_hi: int, env_bands: np.ndarray) -> np.ndarray:
    """Features of windows w (..., L) -> (..., 2 + n_bands + n_env); see native/spectral.pyx."""
    length = w.shape[-1]
    df = sample_rate / length
    spec, p, total = windowed_power(w, win)
    ok = total > 0.0
    safe = np.where(ok, total, 1.0)
    k = np.arange(p.shape[-1], dtype=np.float64)
    centroid = np.where(ok, df * ((p * k).sum(axis=-1) / safe), 0.0)
    dominant = np.where(ok, df * (1 + np.argmax(p[..., 1:], axis=-1)), 0.0)
    cols = [centroid, dominant, *_band_sums(p, bands)]
    if len(env_bands):
        analytic = np.zeros(w.shape, dtype=np.complex128)
        analytic[..., demod_lo:demod_hi] = 2.0 * spec[..., demod_lo:demod_hi]
        env = np.abs(np.fft.ifft(analytic, axis=-1))
        env -= env.mean(axis=-1, keepdims=True)
        pe = _power(np.fft.rfft(env, axis=-1), 1.0 / (length * length))
        cols += _band_sums(pe, env_bands)
    out = np.stack(cols, axis=-1)
    # A constant window has no spectrum; its rounded mean would leave noise.
    constant = w.max(axis=-1) == w.min(axis=-1)
    out[constant] = 0.0
    return out


def reference_spectral(x: np.ndarray, window: int, hop: int, *, win: np.ndarray,
                       sample_rate: float, bands: np.ndarray, demod_lo: int, demod_hi: int,
                       env_bands: np.ndarray) -> np.ndarray:
    """(n_channels, n_windows, n_out) float64, like ``windowed_spectral``."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    n_ch, n_samples = arr.shape
    n_win = 0 if n_samples < window else 1 + (n_samples - window) // hop
    n_out = 2 + len(bands) + len(env_bands)
    out = np.zeros((n_ch, n_win, n_out))
    if n_win == 0 or n_ch == 0:
        return out
    views = sliding_window_view(arr, window, axis=-1)[:, ::hop]
    step = max(1, _BLOCK_ELEMENTS // (n_ch * window))
    args = (win, sample_rate, bands, demod_lo, demod_hi, env_bands)
    for start in range(0, n_win, step):
        out[:, start:start + step] = block_spectral(views[:, start:start + step], *args)
    return out
