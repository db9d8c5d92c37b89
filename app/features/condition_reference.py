"""NumPy reference of the version 2 kernel's raw columns (block-vectorised, same definitions)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from app.features.condition import CHANGES, ENVELOPE, SPECTRUM, kernel_args, layout
from app.features.kinematics import bin_weights, line_intervals, order_intervals
from app.features.reference import _block_stats
from app.features.spec import FeatureSpec
from app.features.spectral_reference import _power, windowed_power

# Upper bound on window samples per block: keeps the complex temporaries (several
# arrays of this many values) to tens of MB.
_BLOCK_ELEMENTS = 1 << 20


def _weighted(p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """sum_k w[..., j, k] p[..., k] -> [..., j]."""
    return np.einsum("...k,...jk->...j", p, weights)


def envelope_spectrum(spectrum: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Squared envelope power Pe [..., M/2 + 1] from the windows' rfft [..., N + 1]."""
    (lo, hi), _ = spec.envelope_bins()
    m, length = spec.baseband_length(), spec.window
    z = np.zeros(spectrum.shape[:-1] + (m,), dtype=np.complex128)
    z[..., :hi - lo] = (2.0 / length) * spectrum[..., lo:hi]
    y = np.fft.ifft(z, axis=-1) * m  # the analytic signal at m L / M (unscaled inverse)
    se = y.real**2 + y.imag**2
    w2m = np.square(spec.window_values()[np.arange(m) * (length // m)])
    se -= (se.sum(axis=-1, keepdims=True) / w2m.sum()) * w2m
    return _power(np.fft.rfft(se, axis=-1), 1.0 / (m * m))


def block_raw(w: np.ndarray, spec: FeatureSpec, speed_hz: np.ndarray,
              line_mult: np.ndarray) -> np.ndarray:
    """Raw columns of windows w [..., L]; speed_hz [...]; line_mult [..., n_lines]."""
    lay, args = layout(spec), kernel_args(spec)
    out = np.zeros(w.shape[:-1] + (lay.n_raw,))
    out[..., :13] = _block_stats(w)
    if not lay.flags & CHANGES:
        out[..., 11:13] = 0.0
    if not lay.flags & SPECTRUM:
        return out
    df = spec.df
    spectrum, p, total = windowed_power(w, args["win"])
    ok = total > 0.0
    safe = np.where(ok, total, 1.0)
    k = np.arange(p.shape[-1], dtype=np.float64)
    cs = lay.col_spec
    out[..., cs] = np.where(ok, total, 0.0)
    out[..., cs + 1] = np.where(ok, df * ((p * k).sum(axis=-1) / safe), 0.0)
    out[..., cs + 2] = np.where(ok, df * (1 + np.argmax(p[..., 1:], axis=-1)), 0.0)
    for j, (lo, hi) in enumerate(args["bands"]):
        out[..., cs + 3 + j] = p[..., lo:hi].sum(axis=-1)
    if lay.n_orders:
        wts = bin_weights(order_intervals(speed_hz / df, lay.n_orders), p.shape[-1])
        out[..., cs + 3 + lay.n_bands:cs + 3 + lay.n_bands + lay.n_orders] = _weighted(p, wts)
    if lay.flags & ENVELOPE:
        pe = envelope_spectrum(spectrum, spec)
        ce = lay.col_env
        out[..., ce] = pe[..., 1:].sum(axis=-1)
        for j, (lo, hi) in enumerate(args["env_bands"]):
            out[..., ce + 1 + j] = pe[..., lo:hi].sum(axis=-1)
        if lay.n_lines:
            centre = line_mult * speed_hz[..., None] / df
            wts = bin_weights(line_intervals(centre, args["tolerance"]), pe.shape[-1])
            sums = np.einsum("...k,...jik->...ji", pe, wts)  # [..., line, (in, lo, hi)]
            width = wts.sum(axis=-1)
            line = np.where(width[..., 0] > 0, sums[..., 0] / np.where(
                width[..., 0] > 0, width[..., 0], 1.0), 0.0)
            bw = width[..., 1] + width[..., 2]
            bg = np.where(bw > 0, (sums[..., 1] + sums[..., 2]) / np.where(bw > 0, bw, 1.0), 0.0)
            first = ce + 1 + lay.n_env
            out[..., first:first + 2 * lay.n_lines:2] = line
            out[..., first + 1:first + 2 * lay.n_lines:2] = bg
    # A constant window has no spectrum; its rounded mean would leave noise.
    constant = w.max(axis=-1) == w.min(axis=-1)
    out[..., lay.col_spec:][constant] = 0.0
    return out


def reference_raw(x: np.ndarray, spec: FeatureSpec, speed_hz: np.ndarray,
                  line_mult: np.ndarray) -> np.ndarray:
    """(rows, windows, n_raw) float64, like ``condition.raw_columns``."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    n_ch, n_samples = arr.shape
    window, hop = spec.window, spec.hop
    n_win = 0 if n_samples < window else 1 + (n_samples - window) // hop
    out = np.zeros((n_ch, n_win, layout(spec).n_raw))
    if n_win == 0 or n_ch == 0:
        return out
    speed = np.asarray(speed_hz, dtype=np.float64).reshape(n_ch, n_win)
    lines = np.asarray(line_mult, dtype=np.float64).reshape(n_ch, 1, -1)
    views = sliding_window_view(arr, window, axis=-1)[:, ::hop]
    step = max(1, _BLOCK_ELEMENTS // (n_ch * window))
    for start in range(0, n_win, step):
        stop = min(n_win, start + step)
        lm = np.broadcast_to(lines, (n_ch, stop - start, lines.shape[-1]))
        out[:, start:stop] = block_raw(views[:, start:stop], spec, speed[:, start:stop], lm)
    return out
