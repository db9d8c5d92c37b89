# Included by spectral.pyx: SIMD helpers, the plan and a batched Stockham FFT (C).

cdef extern from *:
    """
    #include <math.h>
    #include <string.h>

    #if defined(_MSC_VER)
    #define PM_RESTRICT __restrict
    #else
    #define PM_RESTRICT __restrict__
    #endif

    /* Two-double vectors: SSE2 intrinsics exist on every x86-64 compiler (gcc,
       clang, MSVC), so the SIMD path needs no extra compile flags; elsewhere a
       plain struct keeps the same code correct.  A module that defines
       PM_WANT_AVX2 and is compiled for AVX2 gets four-double vectors instead
       (PV_W says how many); the version 1 kernels never ask for them. */
    #if defined(PM_WANT_AVX2) && (defined(__AVX2__) || defined(__AVX__))
    #include <immintrin.h>
    typedef __m256d pv;
    #define PV_W 4
    #define PV_KIND 2  /* AVX */
    #define PV_LD(p) _mm256_loadu_pd(p)
    #define PV_ST(p, v) _mm256_storeu_pd((p), (v))
    #define PV_ADD(a, b) _mm256_add_pd((a), (b))
    #define PV_SUB(a, b) _mm256_sub_pd((a), (b))
    #define PV_MUL(a, b) _mm256_mul_pd((a), (b))
    #define PV_SET(x) _mm256_set1_pd(x)
    #define PV_SQRT(a) _mm256_sqrt_pd(a)
    #define PV_GT(a, b) _mm256_cmp_pd((a), (b), _CMP_GT_OQ)
    #define PV_MIN(a, b) _mm256_min_pd((a), (b))
    #define PV_MAX(a, b) _mm256_max_pd((a), (b))
    #define PV_SEL(m, a, b) _mm256_blendv_pd((b), (a), (m))
    #elif defined(__SSE2__) || defined(_M_X64) || defined(_M_AMD64)
    #include <emmintrin.h>
    typedef __m128d pv;
    #define PV_W 2
    #define PV_KIND 1  /* SSE2 */
    #define PV_LD(p) _mm_loadu_pd(p)
    #define PV_ST(p, v) _mm_storeu_pd((p), (v))
    #define PV_ADD(a, b) _mm_add_pd((a), (b))
    #define PV_SUB(a, b) _mm_sub_pd((a), (b))
    #define PV_MUL(a, b) _mm_mul_pd((a), (b))
    #define PV_SET(x) _mm_set1_pd(x)
    #define PV_SQRT(a) _mm_sqrt_pd(a)
    #define PV_GT(a, b) _mm_cmpgt_pd((a), (b))
    #define PV_MIN(a, b) _mm_min_pd((a), (b))
    #define PV_MAX(a, b) _mm_max_pd((a), (b))
    #define PV_HSUM(a) (_mm_cvtsd_f64(a) + _mm_cvtsd_f64(_mm_unpackhi_pd((a), (a))))
    #define PV_LO(a) _mm_cvtsd_f64(a)
    #define PV_HI(a) _mm_cvtsd_f64(_mm_unpackhi_pd((a), (a)))
    #define PV_SEL(m, a, b) _mm_or_pd(_mm_and_pd((m), (a)), _mm_andnot_pd((m), (b)))
    #else
    typedef struct { double v[2]; } pv;
    #define PV_W 2
    #define PV_KIND 0  /* portable C */
    static inline pv pv_make(double a, double b) { pv r; r.v[0] = a; r.v[1] = b; return r; }
    #define PV_LD(p) pv_make((p)[0], (p)[1])
    #define PV_ST(p, x) ((p)[0] = (x).v[0], (p)[1] = (x).v[1])
    #define PV_ADD(a, b) pv_make((a).v[0] + (b).v[0], (a).v[1] + (b).v[1])
    #define PV_SUB(a, b) pv_make((a).v[0] - (b).v[0], (a).v[1] - (b).v[1])
    #define PV_MUL(a, b) pv_make((a).v[0] * (b).v[0], (a).v[1] * (b).v[1])
    #define PV_SET(x) pv_make((x), (x))
    #define PV_SQRT(a) pv_make(sqrt((a).v[0]), sqrt((a).v[1]))
    #define PV_GT(a, b) pv_make((a).v[0] > (b).v[0], (a).v[1] > (b).v[1])
    #define PV_SEL(m, a, b) pv_make((m).v[0] ? (a).v[0] : (b).v[0], \\
                                    (m).v[1] ? (a).v[1] : (b).v[1])
    #define PV_MIN(a, b) pv_make((a).v[0] < (b).v[0] ? (a).v[0] : (b).v[0], \\
                                 (a).v[1] < (b).v[1] ? (a).v[1] : (b).v[1])
    #define PV_MAX(a, b) pv_make((a).v[0] > (b).v[0] ? (a).v[0] : (b).v[0], \\
                                 (a).v[1] > (b).v[1] ? (a).v[1] : (b).v[1])
    #define PV_HSUM(a) ((a).v[0] + (a).v[1])
    #define PV_LO(a) ((a).v[0])
    #define PV_HI(a) ((a).v[1])
    #endif

    #define PM_LANES 4   /* windows per block: two vectors per value */

    typedef struct {
        Py_ssize_t L;                      /* window length, a power of two >= 16 */
        const double *win;                 /* window function, L values */
        const double *cosv, *sinv;         /* cos, sin of 2 pi t / L for t < L */
        double spec_scale;                 /* 1 / (L * sum(win^2)) */
        double env_scale;                  /* 1 / L^2 */
        double df;                         /* fs / L */
        Py_ssize_t n_bands;
        const Py_ssize_t *bands;           /* n_bands (lo, hi) bin ranges, hi exclusive */
        Py_ssize_t demod_lo, demod_hi;     /* envelope demodulation bins [lo, hi) */
        Py_ssize_t n_env;
        const Py_ssize_t *env_bands;       /* n_env (lo, hi) bin ranges */
    } pm_plan;

    /* Doubles of scratch one thread needs: two ping-pong buffers of L complex
       values per lane, and the power spectrum (N + 1 values per lane). */
    static Py_ssize_t pm_scratch_len(Py_ssize_t L) {
        return (4 * L + L / 2 + 1) * PM_LANES;
    }

    /* Complex product (ar + i ai)(br + i bi) of vectors. */
    #define CMUL_R(ar, ai, br, bi) PV_SUB(PV_MUL(ar, br), PV_MUL(ai, bi))
    #define CMUL_I(ar, ai, br, bi) PV_ADD(PV_MUL(ar, bi), PV_MUL(ai, br))

    /* Stockham autosort FFT of n complex points (n a power of two), PM_LANES
       transforms at once.  Element j of lane t is at [j * PM_LANES + t].  The
       input (xr, xi) and the scratch (yr, yi) are both overwritten; *out_r and
       *out_i point to whichever holds the result.  sign -1: forward, +1:
       inverse (unscaled).  tw_step = L / n selects the twiddles.  upper_zero:
       the input's upper half is zero and is neither read nor needs zeroing
       (the analytic signal has no negative frequencies). */
    static void pm_fft(Py_ssize_t n, int sign, double *xr, double *xi, double *yr, double *yi,
                       const double *cosv, const double *sinv, Py_ssize_t tw_step,
                       int upper_zero, double **out_r, double **out_i)
    {
        const pv zero = PV_SET(0.0);
        const double sg = (double)sign;
        Py_ssize_t m = n, s = 1;
        double *tr, *ti;
        while (m >= 4) {
            const Py_ssize_t n1 = m / 4, q4 = s * n1 * PM_LANES, os = s * PM_LANES;
            const int cd_zero = upper_zero && m == n;  /* c, d: the upper half */
            for (Py_ssize_t p = 0; p < n1; p++) {
                const Py_ssize_t t1 = p * s * tw_step;
                const pv w1r = PV_SET(cosv[t1]), w1i = PV_SET(sg * sinv[t1]);
                const pv w2r = PV_SET(cosv[2 * t1]), w2i = PV_SET(sg * sinv[2 * t1]);
                const pv w3r = PV_SET(cosv[3 * t1]), w3i = PV_SET(sg * sinv[3 * t1]);
                const double *PM_RESTRICT sr = xr + s * p * PM_LANES;
                const double *PM_RESTRICT si = xi + s * p * PM_LANES;
                double *PM_RESTRICT dr = yr + s * 4 * p * PM_LANES;
                double *PM_RESTRICT di = yi + s * 4 * p * PM_LANES;
                for (Py_ssize_t j = 0; j < s * PM_LANES; j += PV_W) {
                    const pv a_r = PV_LD(sr + j), a_i = PV_LD(si + j);
                    const pv b_r = PV_LD(sr + j + q4), b_i = PV_LD(si + j + q4);
                    const pv c_r = cd_zero ? zero : PV_LD(sr + j + 2 * q4);
                    const pv c_i = cd_zero ? zero : PV_LD(si + j + 2 * q4);
                    const pv d_r = cd_zero ? zero : PV_LD(sr + j + 3 * q4);
                    const pv d_i = cd_zero ? zero : PV_LD(si + j + 3 * q4);
                    const pv apcr = PV_ADD(a_r, c_r), apci = PV_ADD(a_i, c_i);
                    const pv amcr = PV_SUB(a_r, c_r), amci = PV_SUB(a_i, c_i);
                    const pv bpdr = PV_ADD(b_r, d_r), bpdi = PV_ADD(b_i, d_i);
                    /* sj = sign * i (b - d): forward uses amc - i(b-d) for output 1.
                       Negating instead of multiplying by sign gives the same bits. */
                    const pv sjr = sign < 0 ? PV_SUB(b_i, d_i) : PV_SUB(d_i, b_i);
                    const pv sji = sign < 0 ? PV_SUB(d_r, b_r) : PV_SUB(b_r, d_r);
                    const pv u1r = PV_ADD(amcr, sjr), u1i = PV_ADD(amci, sji);
                    const pv u3r = PV_SUB(amcr, sjr), u3i = PV_SUB(amci, sji);
                    const pv u2r = PV_SUB(apcr, bpdr), u2i = PV_SUB(apci, bpdi);
                    PV_ST(dr + j, PV_ADD(apcr, bpdr));
                    PV_ST(di + j, PV_ADD(apci, bpdi));
                    PV_ST(dr + j + os, CMUL_R(w1r, w1i, u1r, u1i));
                    PV_ST(di + j + os, CMUL_I(w1r, w1i, u1r, u1i));
                    PV_ST(dr + j + 2 * os, CMUL_R(w2r, w2i, u2r, u2i));
                    PV_ST(di + j + 2 * os, CMUL_I(w2r, w2i, u2r, u2i));
                    PV_ST(dr + j + 3 * os, CMUL_R(w3r, w3i, u3r, u3i));
                    PV_ST(di + j + 3 * os, CMUL_I(w3r, w3i, u3r, u3i));
                }
            }
            tr = xr; xr = yr; yr = tr;
            ti = xi; xi = yi; yi = ti;
            m /= 4;
            s *= 4;
        }
        if (m == 2) {
            const Py_ssize_t h = s * PM_LANES;
            for (Py_ssize_t j = 0; j < h; j += PV_W) {
                const pv a_r = PV_LD(xr + j), a_i = PV_LD(xi + j);
                const pv b_r = PV_LD(xr + j + h), b_i = PV_LD(xi + j + h);
                PV_ST(yr + j, PV_ADD(a_r, b_r));
                PV_ST(yi + j, PV_ADD(a_i, b_i));
                PV_ST(yr + j + h, PV_SUB(a_r, b_r));
                PV_ST(yi + j + h, PV_SUB(a_i, b_i));
            }
            tr = xr; xr = yr; yr = tr;
            ti = xi; xi = yi; yi = ti;
        }
        *out_r = xr;
        *out_i = xi;
    }

    """
    ctypedef struct pm_plan:
        Py_ssize_t L
        const double *win
        const double *cosv
        const double *sinv
        double spec_scale
        double env_scale
        double df
        Py_ssize_t n_bands
        const Py_ssize_t *bands
        Py_ssize_t demod_lo
        Py_ssize_t demod_hi
        Py_ssize_t n_env
        const Py_ssize_t *env_bands

    int PM_LANES
    Py_ssize_t pm_scratch_len(Py_ssize_t L) nogil
