# Included by condition_body.pxi: vector helpers, the plan, the split and band sums (C).

cdef extern from *:
    """
    /* Lanes are PM_LANES windows processed together; every value of a lane group is
       CM_NV vectors (one with AVX, two with SSE2).  Everything runs "vertically":
       sample i of the four windows is one vector, so no horizontal sums are needed
       and the FFT input is written in its interleaved layout directly. */
    #define CM_NV (PM_LANES / PV_W)
    #define CM_SPECTRUM 1
    #define CM_ENVELOPE 2
    #define CM_CHANGES 4
    #define CM_N_TIME 13

    /* PV_PAIR: samples 2n and 2n + 1 of lane group u, as vectors across the lanes;
       with AVX, PV_QUAD: samples 2n .. 2n + 3 of the four lanes by one 4 x 4 transpose. */
    #if PV_KIND == 2
    #define PV_QUAD(p, n, v0, v1, v2, v3) do { \
        const pv r0_ = _mm256_loadu_pd((p)[0] + 2 * (n)), r1_ = _mm256_loadu_pd((p)[1] + 2 * (n)); \
        const pv r2_ = _mm256_loadu_pd((p)[2] + 2 * (n)), r3_ = _mm256_loadu_pd((p)[3] + 2 * (n)); \
        const pv t0_ = _mm256_unpacklo_pd(r0_, r1_), t1_ = _mm256_unpackhi_pd(r0_, r1_); \
        const pv t2_ = _mm256_unpacklo_pd(r2_, r3_), t3_ = _mm256_unpackhi_pd(r2_, r3_); \
        v0 = _mm256_permute2f128_pd(t0_, t2_, 0x20); v1 = _mm256_permute2f128_pd(t1_, t3_, 0x20); \
        v2 = _mm256_permute2f128_pd(t0_, t2_, 0x31); v3 = _mm256_permute2f128_pd(t1_, t3_, 0x31); \
    } while (0)
    #define CM_PAIRS 2  /* one transpose of four samples gives two pairs */
    #elif PV_KIND == 1
    #define PV_PAIR(p, u, n, v0, v1) do { \
        const pv ra_ = _mm_loadu_pd((p)[2 * (u)] + 2 * (n)); \
        const pv rb_ = _mm_loadu_pd((p)[2 * (u) + 1] + 2 * (n)); \
        v0 = _mm_unpacklo_pd(ra_, rb_); v1 = _mm_unpackhi_pd(ra_, rb_); \
    } while (0)
    #define CM_PAIRS 1
    #else
    #define PV_PAIR(p, u, n, v0, v1) do { \
        v0 = pv_make((p)[2 * (u)][2 * (n)], (p)[2 * (u) + 1][2 * (n)]); \
        v1 = pv_make((p)[2 * (u)][2 * (n) + 1], (p)[2 * (u) + 1][2 * (n) + 1]); \
    } while (0)
    #define CM_PAIRS 1
    #endif

    #if PV_KIND == 2
    #define PV_GATHER(p, u, i) _mm256_set_pd((p)[3][i], (p)[2][i], (p)[1][i], (p)[0][i])
    #define PV_ABS(a) _mm256_andnot_pd(_mm256_set1_pd(-0.0), (a))
    #define PV_CROSS(a, b, zero, one) _mm256_and_pd(_mm256_xor_pd( \\
        _mm256_cmp_pd((a), (zero), _CMP_GE_OQ), _mm256_cmp_pd((b), (zero), _CMP_GE_OQ)), (one))
    #elif PV_KIND == 1
    #define PV_GATHER(p, u, i) _mm_set_pd((p)[2 * (u) + 1][i], (p)[2 * (u)][i])
    #define PV_ABS(a) _mm_andnot_pd(_mm_set1_pd(-0.0), (a))
    #define PV_CROSS(a, b, zero, one) _mm_and_pd(_mm_xor_pd( \\
        _mm_cmpge_pd((a), (zero)), _mm_cmpge_pd((b), (zero))), (one))
    #else
    #define PV_GATHER(p, u, i) pv_make((p)[2 * (u)][i], (p)[2 * (u) + 1][i])
    #define PV_ABS(a) pv_make(fabs((a).v[0]), fabs((a).v[1]))
    #define PV_CROSS(a, b, zero, one) pv_make( \\
        (((a).v[0] >= 0.0) != ((b).v[0] >= 0.0)) ? 1.0 : 0.0, \\
        (((a).v[1] >= 0.0) != ((b).v[1] >= 0.0)) ? 1.0 : 0.0)
    #endif

    typedef struct {
        Py_ssize_t L;                      /* window, a power of two >= 16 */
        const double *win;                 /* window function, L values */
        const double *cosv, *sinv;         /* cos, sin of 2 pi t / L, t < L */
        double spec_scale;                 /* 1 / (L sum(win^2)) */
        double df;                         /* fs / L */
        int flags;                         /* CM_SPECTRUM | CM_ENVELOPE | CM_CHANGES */
        Py_ssize_t n_bands;
        const Py_ssize_t *bands;           /* (lo, hi) bins of the window's spectrum */
        Py_ssize_t n_orders;               /* order bands 1..n_orders */
        Py_ssize_t dlo, dhi, M;            /* analytic band [dlo, dhi), baseband points */
        const double *w2m;                 /* window^2 at M points (DC projection) */
        double w2m_sum;
        double env_scale;                  /* 1 / M^2 */
        Py_ssize_t n_env;
        const Py_ssize_t *env_bands;       /* (lo, hi) bins of the envelope spectrum */
        Py_ssize_t n_lines;
        const double *line_mult;           /* [channel][line] orders */
        double tol;                        /* relative half-width of a line */
        const double *speed_hz;            /* shaft speed of each (channel, window) */
        Py_ssize_t n_raw, col_spec, col_env;
    } cm_plan;

    static Py_ssize_t cm_scratch_len(Py_ssize_t L, Py_ssize_t M) {
        const Py_ssize_t N = L / 2;
        return (5 * N + 1 + 4 * M + M / 2 + 1) * PM_LANES;
    }

    typedef struct { double tot[PM_LANES], cen[PM_LANES], peak[PM_LANES]; } cm_stats;

    /* Spectrum X[0..H] of a real 2H-point signal from the H-point FFT (zr, zi) of its
       sample pairs; pw[k] = m_k |X[k]|^2 scale (m_k = 1 at 0 and H, else 2).  tw: the
       twiddle stride in the L-point tables (L / 2H).  If br is not NULL, also store
       bscale X[k] at k - lo for k in [lo, hi) (the analytic band, shifted to baseband).
       If st is not NULL, also the total, sum of k P[k] and the first argmax k >= 1. */
    static void cm_split(const double *cosv, const double *sinv, Py_ssize_t H,
                         Py_ssize_t tw, const double *zr, const double *zi, double scale,
                         double *PM_RESTRICT pw, double *br, double *bi, Py_ssize_t lo,
                         Py_ssize_t hi, double bscale, cm_stats *st)
    {
        const pv half = PV_SET(0.5), bs = PV_SET(bscale);
        pv tot[CM_NV], cen[CM_NV], best[CM_NV], bestk[CM_NV];
        for (int u = 0; u < CM_NV; u++) {
            tot[u] = PV_SET(0.0); cen[u] = PV_SET(0.0);
            best[u] = PV_SET(-1.0); bestk[u] = PV_SET(1.0);
        }
        for (Py_ssize_t k = 0; k <= H; k++) {
            const Py_ssize_t a = (k == H ? 0 : k) * PM_LANES;
            const Py_ssize_t b = (k == 0 ? 0 : H - k) * PM_LANES;
            const pv wr = PV_SET(cosv[k * tw]), wi = PV_SET(-sinv[k * tw]);
            const pv mk = PV_SET((k == 0 || k == H) ? scale : 2.0 * scale);
            const pv kv = PV_SET((double)k);
            const int band = br != NULL && k >= lo && k < hi;
            for (int u = 0; u < CM_NV; u++) {
                const int t = u * PV_W;
                const pv z_r = PV_LD(zr + a + t), z_i = PV_LD(zi + a + t);
                const pv c_r = PV_LD(zr + b + t), nc_i = PV_LD(zi + b + t);
                const pv fer = PV_MUL(half, PV_ADD(z_r, c_r));
                const pv fei = PV_MUL(half, PV_SUB(z_i, nc_i));
                const pv for_ = PV_MUL(half, PV_ADD(z_i, nc_i));
                const pv foi = PV_MUL(half, PV_SUB(c_r, z_r));
                const pv x_r = PV_ADD(fer, CMUL_R(wr, wi, for_, foi));
                const pv x_i = PV_ADD(fei, CMUL_I(wr, wi, for_, foi));
                const pv v = PV_MUL(mk, PV_ADD(PV_MUL(x_r, x_r), PV_MUL(x_i, x_i)));
                PV_ST(pw + k * PM_LANES + t, v);
                if (band) {
                    PV_ST(br + (k - lo) * PM_LANES + t, PV_MUL(bs, x_r));
                    PV_ST(bi + (k - lo) * PM_LANES + t, PV_MUL(bs, x_i));
                }
                if (st != NULL) {
                    tot[u] = PV_ADD(tot[u], v);
                    cen[u] = PV_ADD(cen[u], PV_MUL(kv, v));
                    if (k >= 1) {  /* strict >: the first maximum wins */
                        const pv gt = PV_GT(v, best[u]);
                        best[u] = PV_SEL(gt, v, best[u]);
                        bestk[u] = PV_SEL(gt, kv, bestk[u]);
                    }
                }
            }
        }
        if (st != NULL) {
            for (int u = 0; u < CM_NV; u++) {
                PV_ST(st->tot + u * PV_W, tot[u]);
                PV_ST(st->cen + u * PV_W, cen[u]);
                PV_ST(st->peak + u * PV_W, bestk[u]);
            }
        }
    }

    /* Sum over bins [lo, hi) of p (interleaved by lane) for every lane. */
    static void cm_range_sums(const double *p, Py_ssize_t lo, Py_ssize_t hi, double *acc)
    {
        for (int u = 0; u < CM_NV; u++) {
            const int t = u * PV_W;
            pv s0 = PV_SET(0.0), s1 = PV_SET(0.0);
            Py_ssize_t k = lo;
            for (; k + 2 <= hi; k += 2) {
                s0 = PV_ADD(s0, PV_LD(p + k * PM_LANES + t));
                s1 = PV_ADD(s1, PV_LD(p + (k + 1) * PM_LANES + t));
            }
            for (; k < hi; k++)
                s0 = PV_ADD(s0, PV_LD(p + k * PM_LANES + t));
            PV_ST(acc + t, PV_ADD(s0, s1));
        }
    }
    """
