# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Windowed spectral and envelope-spectrum features, OpenMP-parallel over blocks of windows."""

# Built by setup.py as ``app.features._spectral``; call it through
# ``app.features.spectral.windowed_spectral``, which validates arguments and
# turns the feature spec's frequency bands into bin ranges.
#
# Output columns per window (must match app/features/spectral.py and the
# NumPy reference in app/features/spectral_reference.py):
#   0 spectral_centroid, 1 dominant_frequency, then one energy per band, then
#   one energy per envelope band (none when no envelope bands are given).
#
# Definitions (L = window, N = L/2, fs = sample rate, w = window function):
#   d = x - mean(x);  X = rfft(d * w);  P[k] = m_k |X[k]|^2 / (L * sum(w^2)),
#   m_k = 1 for k = 0 and k = N, else 2, so sum(P) = var(x) for w = 1.
#   centroid = sum(k fs/L P[k]) / sum(P);  dominant = argmax_{k>=1} P[k] * fs/L
#   (first maximum);  band energy = sum of P[k] over the band's bins.
#   Envelope: Y[k] = 2 X[k] for k in the demodulation band, else 0;
#   env = |ifft(Y)| (length L, the band-passed analytic signal's magnitude);
#   e = env - mean(env);  E = rfft(e) (no second window: env is already tapered
#   by w);  Pe[k] = m_k |E[k]|^2 / L^2; envelope band energy = sum of Pe.
#   A constant window (max == min) gives 0 for every feature, because its
#   rounded mean leaves a few ulps of noise that different summation orders
#   would turn into different garbage.
#
# The C code lives in spectral_fft.pxi (SIMD helpers, the FFT) and
# spectral_core.pxi (split step, sums, envelope, one block of windows).
#
# Speed: the FFT is written here (a Stockham radix-4 autosort transform) so it
# can run PM_LANES windows at once, interleaved: every butterfly is a short
# loop over lanes that the compiler turns into SIMD, and every twiddle load is
# shared by the lanes.  One real FFT of L points is one complex FFT of N
# points plus a split step.  Lanes never interact, so a window's result does
# not depend on which block or thread computed it.

from cython.parallel cimport prange, threadid

import numpy as np

include "spectral_fft.pxi"
include "spectral_core.pxi"


def lanes():
    """Windows processed together per block (the SIMD width of the kernel)."""
    return PM_LANES


def scratch_bytes(Py_ssize_t window):
    """Bytes of scratch memory one thread uses for windows of this length."""
    return pm_scratch_len(window) * 8


def _check_ranges(const Py_ssize_t[:, ::1] ranges, Py_ssize_t limit, str what):
    cdef Py_ssize_t j
    if ranges.shape[0] > 0 and ranges.shape[1] != 2:
        raise ValueError(f"{what} must have shape (n, 2)")
    for j in range(ranges.shape[0]):
        if not 0 <= ranges[j, 0] < ranges[j, 1] <= limit:
            raise ValueError(f"{what} {j} bins out of range: {ranges[j, 0]}..{ranges[j, 1]}")


def spectral(const double[:, ::1] x, Py_ssize_t window, Py_ssize_t hop,
             const double[::1] win, double sample_rate,
             const Py_ssize_t[:, ::1] bands, Py_ssize_t demod_lo, Py_ssize_t demod_hi,
             const Py_ssize_t[:, ::1] env_bands, int n_threads):
    """Return float64 (n_channels, n_windows, 2 + n_bands + n_env_bands) features.

    x is read in place; windows start at 0, hop, 2*hop, ... and must fit.
    bands and env_bands are (n, 2) bin ranges [lo, hi); the envelope is skipped
    when env_bands is empty.  The wrapper validates; this re-checks cheaply.
    """
    if window < 16 or window & (window - 1):
        raise ValueError(f"window must be a power of two >= 16, got {window}")
    if hop < 1:
        raise ValueError(f"hop must be >= 1, got {hop}")
    if n_threads < 1:
        raise ValueError(f"n_threads must be >= 1, got {n_threads}")
    if win.shape[0] != window:
        raise ValueError("window function length differs from the window")
    if not sample_rate > 0:
        raise ValueError("sample_rate must be > 0")
    _check_ranges(bands, window // 2 + 1, "band")
    _check_ranges(env_bands, window // 2 + 1, "envelope band")
    if env_bands.shape[0] > 0 and not 1 <= demod_lo < demod_hi <= window // 2:
        raise ValueError(f"demodulation bins out of range: {demod_lo}..{demod_hi}")

    cdef Py_ssize_t n_ch = x.shape[0]
    cdef Py_ssize_t n_samples = x.shape[1]
    cdef Py_ssize_t n_win = 0 if n_samples < window else 1 + (n_samples - window) // hop
    cdef Py_ssize_t n_bands = bands.shape[0], n_env = env_bands.shape[0]
    cdef Py_ssize_t n_out = 2 + n_bands + n_env
    out_arr = np.zeros((n_ch, n_win, n_out), dtype=np.float64)
    cdef double[:, :, ::1] out = out_arr
    cdef Py_ssize_t total = n_ch * n_win
    if total == 0:
        return out_arr

    t = np.arange(window) * (2.0 * np.pi / window)
    cdef double[::1] cosv = np.cos(t)
    cdef double[::1] sinv = np.sin(t)
    # Not np.dot: a BLAS call wakes OpenBLAS threads that then spin against ours.
    cdef double s2 = float(np.square(win).sum())
    # Small, read-only, shared by all threads; one scratch row per thread (a
    # NumPy array, so tracemalloc sees it in the memory tests).
    cdef Py_ssize_t n_blocks = (total + PM_LANES - 1) // PM_LANES
    # Blocks are handed out two at a time (below): more threads would idle.
    cdef int threads = <int>max(1, min(n_threads, n_blocks // 2))
    cdef double[:, ::1] scratch = np.empty((threads, pm_scratch_len(window)))
    dummy = np.zeros((1, 2), dtype=np.intp)
    cdef const Py_ssize_t[:, ::1] bands_v = bands if n_bands else dummy
    cdef const Py_ssize_t[:, ::1] env_v = env_bands if n_env else dummy

    cdef pm_plan plan
    plan.L = window
    plan.win = &win[0]
    plan.cosv = &cosv[0]
    plan.sinv = &sinv[0]
    plan.spec_scale = 1.0 / (window * s2) if s2 > 0 else 0.0
    plan.env_scale = 1.0 / (<double>window * <double>window)
    plan.df = sample_rate / window
    plan.n_bands = n_bands
    plan.bands = &bands_v[0, 0]
    plan.demod_lo = demod_lo
    plan.demod_hi = demod_hi
    plan.n_env = n_env
    plan.env_bands = &env_v[0, 0]

    cdef Py_ssize_t blk
    # Dynamic: a thread whose core is shared with another process takes fewer
    # blocks instead of holding everyone up, so 2 threads are never much
    # slower than 1 on a busy machine.  A block is ~20 us of work, far above
    # the cost of handing it out.
    with nogil:
        for blk in prange(n_blocks, schedule="dynamic", chunksize=2, num_threads=threads):
            pm_spectral_block(&x[0, 0], n_samples, n_win, hop, total, blk, &plan,
                              &scratch[threadid(), 0], &out[0, 0, 0], n_out)
    return out_arr
