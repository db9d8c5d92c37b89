# Included by condition.pyx and condition_avx2.pyx (the same kernel, two instruction sets).
#
# Output columns per (channel, window), "raw" (app/features/condition.py turns them into
# the spec's features; the NumPy reference app/features/condition_reference.py computes
# the same columns):
#   0..12  mean, std, rms, min, max, peak_to_peak, skewness, excess_kurtosis,
#          crest_factor, shape_factor, impulse_factor, zero_crossing_rate,
#          mean_absolute_change (the version 1 definitions; the last two only with
#          CM_CHANGES, else 0)
#   then, with CM_SPECTRUM: total power, centroid, dominant frequency, the power of each
#          band, the power of each order band (fractional bin weights);
#   then, with CM_ENVELOPE: the envelope spectrum's total (bins >= 1), each envelope band,
#          and for each defect line its mean power density and that of its background.
#
# Definitions (L = window, N = L/2, w = window function, df = fs/L):
#   X = rfft((x - mean) w);  P[k] = m_k |X[k]|^2 / (L sum(w^2)), m_k = 1 at 0 and N else 2.
#   Squared envelope spectrum (Randall & Antoni 2011): the band-passed analytic signal
#   holds only the bins [lo, hi) of X, so shifted to baseband it is exactly
#   y[m] = (2/L) sum_j X[lo + j] exp(2 pi i j m / M),  M = a power of two >= 2 (hi - lo),
#   the analytic signal at the times m L / M.  |y|^2 is band-limited to (hi - lo) bins
#   too, so its M-point spectrum is exact (no aliasing): two small FFTs instead of two
#   window-long ones.  |y|^2 is tapered by w^2; its DC is removed along that taper,
#   e = |y|^2 - c w_M^2 with c = sum |y|^2 / sum w_M^2, so no DC leaks into the low bins.
#   Pe[k] = m_k |rfft(e)[k]|^2 / M^2, k = 0..M/2, bin spacing df as for X.
#   A constant window (max == min) gives 0 for every spectral and envelope column.

from cython.parallel cimport prange, threadid

import numpy as np

include "spectral_fft.pxi"
include "condition_simd.pxi"
include "condition_envelope.pxi"
include "condition_core.pxi"


def vector_width():
    """Doubles per SIMD vector this build uses (4: AVX2, 2: SSE2 or portable C)."""
    return PV_W


def lanes():
    """Windows processed together per block."""
    return PM_LANES


def scratch_bytes(Py_ssize_t window, Py_ssize_t baseband):
    """Bytes of scratch memory one thread uses."""
    return cm_scratch_len(window, baseband) * 8


def cpu_has_avx2():
    """True if this CPU and operating system run AVX2 code (the other build's target)."""
    return bool(_cpu_avx2())


cdef extern from *:
    """
    #if defined(_MSC_VER)
    #include <intrin.h>
    static int _cpu_avx2(void) {
        int r[4];
        __cpuid(r, 0);
        if (r[0] < 7) return 0;
        __cpuid(r, 1);
        if (!(r[2] & (1 << 27)) || !(r[2] & (1 << 28))) return 0;  /* OSXSAVE, AVX */
        if ((_xgetbv(0) & 6) != 6) return 0;                      /* XMM and YMM saved */
        __cpuidex(r, 7, 0);
        return (r[1] & (1 << 5)) != 0;                            /* AVX2 */
    }
    #elif (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
    static int _cpu_avx2(void) { __builtin_cpu_init(); return __builtin_cpu_supports("avx2"); }
    #else
    static int _cpu_avx2(void) { return 0; }
    #endif
    """
    int _cpu_avx2()


def _check_ranges(const Py_ssize_t[:, ::1] ranges, Py_ssize_t limit, str what):
    cdef Py_ssize_t j
    if ranges.shape[0] > 0 and ranges.shape[1] != 2:
        raise ValueError(f"{what} must have shape (n, 2)")
    for j in range(ranges.shape[0]):
        if not 0 <= ranges[j, 0] < ranges[j, 1] <= limit:
            raise ValueError(f"{what} {j} bins out of range: {ranges[j, 0]}..{ranges[j, 1]}")


def condition(const double[:, ::1] x, Py_ssize_t window, Py_ssize_t hop,
              const double[::1] win, double sample_rate, int flags,
              const Py_ssize_t[:, ::1] bands, Py_ssize_t n_orders,
              Py_ssize_t demod_lo, Py_ssize_t demod_hi, Py_ssize_t baseband,
              const Py_ssize_t[:, ::1] env_bands, const double[:, ::1] line_mult,
              double tolerance, const double[::1] speed_hz, int n_threads):
    """Return float64 (n_channels, n_windows, n_raw) raw columns (see the file header).

    x is read in place; windows start at 0, hop, 2*hop, ... and must fit.  speed_hz
    holds the shaft speed of each (channel, window), channel-major; line_mult
    (n_channels, n_lines) each channel's line orders.  The wrapper validates; this
    re-checks cheaply.
    """
    if window < 16 or window & (window - 1):
        raise ValueError(f"window must be a power of two >= 16, got {window}")
    if hop < 1 or n_threads < 1:
        raise ValueError(f"hop and n_threads must be >= 1, got {hop}, {n_threads}")
    if win.shape[0] != window or not sample_rate > 0:
        raise ValueError("window function length differs from the window, or bad rate")
    cdef Py_ssize_t n_ch = x.shape[0], n_samples = x.shape[1]
    cdef Py_ssize_t n_win = 0 if n_samples < window else 1 + (n_samples - window) // hop
    cdef bint env = (flags & CM_ENVELOPE) != 0
    if flags & CM_ENVELOPE and not flags & CM_SPECTRUM:
        raise ValueError("the envelope needs the spectrum")
    if env:
        if not 1 <= demod_lo < demod_hi <= window // 2:
            raise ValueError(f"demodulation bins out of range: {demod_lo}..{demod_hi}")
        if baseband < 16 or baseband & (baseband - 1) or baseband < 2 * (demod_hi - demod_lo) \
                or baseband > window:
            raise ValueError(f"baseband length {baseband} is not a power of two in "
                             f"[2 x band width, window]")
        _check_ranges(env_bands, baseband // 2 + 1, "envelope band")
    else:
        baseband = 16
    _check_ranges(bands, window // 2 + 1, "band")
    if speed_hz.shape[0] < n_ch * n_win or line_mult.shape[0] < n_ch:
        raise ValueError("speed_hz needs one value per (channel, window) and line_mult one "
                         "row per channel")
    if n_orders < 0 or not tolerance > 0:
        raise ValueError("n_orders must be >= 0 and tolerance > 0")
    cdef Py_ssize_t n_bands = bands.shape[0] if flags & CM_SPECTRUM else 0
    cdef Py_ssize_t n_ord = n_orders if flags & CM_SPECTRUM else 0
    cdef Py_ssize_t n_env = env_bands.shape[0] if env else 0
    cdef Py_ssize_t n_lines = line_mult.shape[1] if env else 0
    cdef Py_ssize_t col_spec = CM_N_TIME
    cdef Py_ssize_t col_env = col_spec + 3 + n_bands + n_ord
    cdef Py_ssize_t n_raw = CM_N_TIME + ((3 + n_bands + n_ord) if flags & CM_SPECTRUM else 0) \
        + ((1 + n_env + 2 * n_lines) if env else 0)
    out_arr = np.zeros((n_ch, n_win, n_raw), dtype=np.float64)
    cdef double[:, :, ::1] out = out_arr
    cdef Py_ssize_t total = n_ch * n_win
    if total == 0:
        return out_arr

    t = np.arange(window) * (2.0 * np.pi / window)
    cdef double[::1] cosv = np.cos(t)
    cdef double[::1] sinv = np.sin(t)
    # The window at the baseband's M sample times, squared: the taper of |y|^2.
    tm = np.arange(baseband) * (window // baseband)
    cdef double[::1] w2m = np.square(np.asarray(win)[tm])
    # Not np.dot: a BLAS call wakes OpenBLAS threads that then spin against ours.
    cdef double s2 = float(np.square(win).sum())
    cdef Py_ssize_t n_blocks = (total + PM_LANES - 1) // PM_LANES
    cdef int threads = <int>max(1, min(n_threads, n_blocks // 2))
    cdef double[:, ::1] scratch = np.empty((threads, cm_scratch_len(window, baseband)))
    dummy_i = np.zeros((1, 2), dtype=np.intp)
    dummy_d = np.zeros((max(1, n_ch), 1), dtype=np.float64)
    cdef const Py_ssize_t[:, ::1] bands_v = bands if n_bands else dummy_i
    cdef const Py_ssize_t[:, ::1] env_v = env_bands if n_env else dummy_i
    cdef const double[:, ::1] mult_v = np.ascontiguousarray(line_mult[:n_ch]) if n_lines \
        else dummy_d

    cdef cm_plan plan
    plan.L = window
    plan.win = &win[0]
    plan.cosv = &cosv[0]
    plan.sinv = &sinv[0]
    plan.spec_scale = 1.0 / (window * s2) if s2 > 0 else 0.0
    plan.df = sample_rate / window
    plan.flags = flags
    plan.n_bands = n_bands
    plan.bands = &bands_v[0, 0]
    plan.n_orders = n_ord
    plan.dlo = demod_lo
    plan.dhi = demod_hi
    plan.M = baseband
    plan.w2m = &w2m[0]
    plan.w2m_sum = float(np.asarray(w2m).sum()) or 1.0
    plan.env_scale = 1.0 / (<double>baseband * <double>baseband)
    plan.n_env = n_env
    plan.env_bands = &env_v[0, 0]
    plan.n_lines = n_lines
    plan.line_mult = &mult_v[0, 0]
    plan.tol = tolerance
    plan.speed_hz = &speed_hz[0]
    plan.n_raw = n_raw
    plan.col_spec = col_spec
    plan.col_env = col_env

    cdef Py_ssize_t blk
    # Dynamic: a thread whose core is shared with another process takes fewer blocks
    # instead of holding everyone up, so 2 threads are never much slower than 1.
    with nogil:
        for blk in prange(n_blocks, schedule="dynamic", chunksize=2, num_threads=threads):
            cm_block(&x[0, 0], n_samples, n_win, hop, total, blk, &plan,
                     &scratch[threadid(), 0], &out[0, 0, 0])
    return out_arr
