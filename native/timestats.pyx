# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Windowed time-domain statistics over (channel, window) pairs, OpenMP-parallel."""

# Built by setup.py as ``app.features._timestats``; call it through
# ``app.features.timestats.windowed_time_stats``, which validates arguments.
# The bounds checks are off above, so this entry point trusts its caller for
# window >= 2, hop >= 1 and n_threads >= 1 (it re-checks them cheaply anyway).
#
# Feature order (must match FEATURE_NAMES in the wrapper and the reference):
#   0 mean, 1 std, 2 rms, 3 min, 4 max, 5 peak_to_peak, 6 skewness,
#   7 kurtosis, 8 crest_factor, 9 shape_factor, 10 impulse_factor,
#   11 zero_crossing_rate, 12 mean_absolute_change
#
# Definitions that need a choice:
# * std, skewness and kurtosis are population moments (ddof=0, Fisher, excess
#   kurtosis), computed two-pass: mean first, then central moments of
#   d = x - mean.  One-pass sums of powers lose all digits when |mean| >> std.
#   Pass 2 also sums d itself; its mean delta (the rounding error of the mean)
#   corrects both the mean and the moments.  Without it, skewness shifts by
#   about 3*delta/std, i.e. ~1e-11 at |mean|/std ~ 1e5 (a DC-offset sensor),
#   and two correct implementations that round the mean differently disagree.
# * A window is "constant" when max == min.  Then std, skewness and kurtosis are
#   exactly 0: the rounded mean need not equal the samples, so d would be tiny
#   noise and m3 / m2**1.5 would be garbage instead of 0.
# * zero_crossing_rate counts i in 1..L-1 with (x[i-1] >= 0) != (x[i] >= 0),
#   divided by L-1 (zero counts as non-negative, so a touch of zero from above
#   is not a crossing, and a run of zeros never counts twice).
# * Ratios (crest, shape, impulse) are 0 when their denominator is 0.

from cython.parallel cimport prange
from libc.math cimport sqrt, fabs

import numpy as np

cdef enum:
    N_FEATURES = 13


cdef void _window_stats(const double* x, Py_ssize_t n, double* out) noexcept nogil:
    """Fill out[0:13] with the statistics of x[0:n] (n >= 2)."""
    cdef Py_ssize_t i
    cdef double v, prev, d, d2
    cdef double s = 0.0, sq = 0.0, sabs = 0.0, mac = 0.0
    cdef double mn = x[0], mx = x[0]
    cdef double sd = 0.0, m2 = 0.0, m3 = 0.0, m4 = 0.0, delta = 0.0
    cdef double mean, rms, meanabs, maxabs, std
    cdef double inv_n = 1.0 / <double>n
    cdef Py_ssize_t crossings = 0
    cdef bint prev_nonneg = x[0] >= 0.0, nonneg

    # Pass 1: everything that needs no mean.
    prev = x[0]
    s = prev
    sq = prev * prev
    sabs = fabs(prev)
    for i in range(1, n):
        v = x[i]
        s += v
        sq += v * v
        sabs += fabs(v)
        if v < mn:
            mn = v
        if v > mx:
            mx = v
        nonneg = v >= 0.0
        if nonneg != prev_nonneg:
            crossings += 1
        prev_nonneg = nonneg
        mac += fabs(v - prev)
        prev = v

    mean = s * inv_n
    rms = sqrt(sq * inv_n)
    meanabs = sabs * inv_n
    maxabs = fabs(mn) if fabs(mn) > fabs(mx) else fabs(mx)

    # Pass 2: raw moments of d about the computed mean, then shifted by delta to
    # the moments about the corrected mean (binomial expansion).
    if mx != mn:
        for i in range(n):
            d = x[i] - mean
            d2 = d * d
            sd += d
            m2 += d2
            m3 += d2 * d
            m4 += d2 * d2
        delta = sd * inv_n
        m2 *= inv_n
        m3 *= inv_n
        m4 *= inv_n
        m4 = m4 - 4.0 * delta * m3 + 6.0 * delta * delta * m2 - 3.0 * delta * delta * delta * delta
        m3 = m3 - 3.0 * delta * m2 + 2.0 * delta * delta * delta
        m2 = m2 - delta * delta

    out[0] = mean + delta
    if m2 > 0.0:
        std = sqrt(m2)
        out[1] = std
        out[6] = m3 / (m2 * std)
        out[7] = m4 / (m2 * m2) - 3.0
    else:
        out[1] = 0.0
        out[6] = 0.0
        out[7] = 0.0
    out[2] = rms
    out[3] = mn
    out[4] = mx
    out[5] = mx - mn
    out[8] = maxabs / rms if rms > 0.0 else 0.0
    out[9] = rms / meanabs if meanabs > 0.0 else 0.0
    out[10] = maxabs / meanabs if meanabs > 0.0 else 0.0
    out[11] = <double>crossings / <double>(n - 1)
    out[12] = mac / <double>(n - 1)


def n_features():
    """Number of features per window (13)."""
    return N_FEATURES


def time_stats(const double[:, ::1] x, Py_ssize_t window, Py_ssize_t hop, int n_threads):
    """Return float64 (n_channels, n_windows, 13) statistics of x's windows.

    x is read in place through a typed memoryview (read-only buffers are
    accepted); windows start at 0, hop, 2*hop, ... and must fit entirely.
    """
    if window < 2:
        raise ValueError(f"window must be >= 2, got {window}")
    if hop < 1:
        raise ValueError(f"hop must be >= 1, got {hop}")
    if n_threads < 1:
        raise ValueError(f"n_threads must be >= 1, got {n_threads}")

    cdef Py_ssize_t n_ch = x.shape[0]
    cdef Py_ssize_t n_samples = x.shape[1]
    cdef Py_ssize_t n_win = 0 if n_samples < window else 1 + (n_samples - window) // hop
    out_arr = np.zeros((n_ch, n_win, N_FEATURES), dtype=np.float64)
    cdef double[:, :, ::1] out = out_arr
    cdef Py_ssize_t total = n_ch * n_win
    cdef Py_ssize_t k, c, w
    if total == 0:
        return out_arr

    # One flat loop over (channel, window) pairs so both threads stay busy
    # whether there is one long channel or many short ones.  Every pair writes
    # its own 13 outputs and sums in a fixed order, so results do not depend on
    # the thread count.  Dynamic chunks: a thread whose core is busy with
    # another process takes fewer pairs instead of holding the others up.
    with nogil:
        for k in prange(total, schedule="dynamic", chunksize=16, num_threads=n_threads):
            c = k // n_win
            w = k - c * n_win
            _window_stats(&x[c, w * hop], window, &out[c, w, 0])
    return out_arr
