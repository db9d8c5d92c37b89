# Included by condition_body.pxi: the version 2 feature kernel for one block of windows (C).

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

    /* Weighted sum of lane t of p over the bin interval [a, b) (bins 1..kmax; bin k
       stands for [k - 1/2, k + 1/2)); *wsum gets the sum of the weights. */
    static double cm_interval(const double *p, int t, double a, double b, Py_ssize_t kmax,
                              double *wsum)
    {
        double s = 0.0, ws = 0.0;
        *wsum = 0.0;
        if (!(a < b) || !(b > 0.5) || !(a < (double)kmax + 0.5)) return 0.0;
        if (a < -1.0) a = -1.0;               /* clamping changes no weight in 1..kmax */
        if (b > (double)kmax + 1.0) b = (double)kmax + 1.0;
        Py_ssize_t k0 = (Py_ssize_t)floor(a - 0.5) + 1, k1 = (Py_ssize_t)ceil(b + 0.5) - 1;
        if (k0 < 1) k0 = 1;
        if (k1 > kmax) k1 = kmax;
        for (Py_ssize_t k = k0; k <= k1; k++) {
            const double hi_e = b < (double)k + 0.5 ? b : (double)k + 0.5;
            const double lo_e = a > (double)k - 0.5 ? a : (double)k - 0.5;
            double w = hi_e - lo_e;
            if (w <= 0.0) continue;
            if (w > 1.0) w = 1.0;
            s += w * p[k * PM_LANES + t];
            ws += w;
        }
        *wsum = ws;
        return s;
    }

    /* cm_interval for all lanes at once (the same interval in every lane): acc gets the
       weighted sum of each lane. */
    static void cm_interval_all(const double *p, double a, double b, Py_ssize_t kmax,
                                double *acc, double *wsum)
    {
        pv s[CM_NV];
        double ws = 0.0;
        for (int u = 0; u < CM_NV; u++) s[u] = PV_SET(0.0);
        if (a < b && b > 0.5 && a < (double)kmax + 0.5) {
            if (a < -1.0) a = -1.0;
            if (b > (double)kmax + 1.0) b = (double)kmax + 1.0;
            Py_ssize_t k0 = (Py_ssize_t)floor(a - 0.5) + 1, k1 = (Py_ssize_t)ceil(b + 0.5) - 1;
            if (k0 < 1) k0 = 1;
            if (k1 > kmax) k1 = kmax;
            for (Py_ssize_t k = k0; k <= k1; k++) {
                const double hi_e = b < (double)k + 0.5 ? b : (double)k + 0.5;
                const double lo_e = a > (double)k - 0.5 ? a : (double)k - 0.5;
                double w = hi_e - lo_e;
                if (w <= 0.0) continue;
                if (w > 1.0) w = 1.0;
                const pv wv = PV_SET(w);
                for (int u = 0; u < CM_NV; u++)
                    s[u] = PV_ADD(s[u], PV_MUL(wv, PV_LD(p + k * PM_LANES + u * PV_W)));
                ws += w;
            }
        }
        for (int u = 0; u < CM_NV; u++) PV_ST(acc + u * PV_W, s[u]);
        *wsum = ws;
    }

    /* Squared envelope spectrum of the baseband band in (zr, zi) (B = dhi - dlo points,
       already scaled so that its inverse FFT is the analytic signal at M times), DC
       projected out along window^2; envelope band sums and defect lines into outs. */
    static void cm_envelope(const cm_plan *pl, double *zr, double *zi, double *yr, double *yi,
                            double *pe, double **outs, const double *spd, const int *chan)
    {
        const Py_ssize_t L = pl->L, M = pl->M, H = M / 2, B = pl->dhi - pl->dlo;
        double *rr, *ri, *er, *ei, *r2, *i2, acc[PM_LANES], cproj[PM_LANES];
        for (Py_ssize_t j = B; j < H; j++)
            for (int t = 0; t < PM_LANES; t++) {
                zr[j * PM_LANES + t] = 0.0;
                zi[j * PM_LANES + t] = 0.0;
            }
        pm_fft(M, +1, zr, zi, yr, yi, pl->cosv, pl->sinv, L / M, 1, &rr, &ri);
        er = (rr == zr) ? yr : zr;
        ei = (rr == zr) ? yi : zi;
        /* Squared envelope se[m] = |y[m]|^2, packed as pairs; its sum for the projection. */
        for (int u = 0; u < CM_NV; u++) {
            const int t = u * PV_W;
            pv s0 = PV_SET(0.0), s1 = PV_SET(0.0);
            for (Py_ssize_t n = 0; n < H; n++) {
                const Py_ssize_t e = 2 * n * PM_LANES + t, f = e + PM_LANES;
                const pv re0 = PV_LD(rr + e), im0 = PV_LD(ri + e);
                const pv re1 = PV_LD(rr + f), im1 = PV_LD(ri + f);
                const pv m0 = PV_ADD(PV_MUL(re0, re0), PV_MUL(im0, im0));
                const pv m1 = PV_ADD(PV_MUL(re1, re1), PV_MUL(im1, im1));
                PV_ST(er + n * PM_LANES + t, m0);
                PV_ST(ei + n * PM_LANES + t, m1);
                s0 = PV_ADD(s0, m0);
                s1 = PV_ADD(s1, m1);
            }
            PV_ST(cproj + t, PV_MUL(PV_ADD(s0, s1), PV_SET(1.0 / pl->w2m_sum)));
        }
        /* The tapered DC, c * window^2, is removed exactly (it lives in bins 0..2). */
        for (int u = 0; u < CM_NV; u++) {
            const int t = u * PV_W;
            const pv c = PV_LD(cproj + t);
            for (Py_ssize_t n = 0; n < H; n++) {
                const pv w0 = PV_SET(pl->w2m[2 * n]), w1 = PV_SET(pl->w2m[2 * n + 1]);
                PV_ST(er + n * PM_LANES + t, PV_SUB(PV_LD(er + n * PM_LANES + t), PV_MUL(c, w0)));
                PV_ST(ei + n * PM_LANES + t, PV_SUB(PV_LD(ei + n * PM_LANES + t), PV_MUL(c, w1)));
            }
        }
        pm_fft(H, -1, er, ei, rr, ri, pl->cosv, pl->sinv, 2 * L / M, 0, &r2, &i2);
        cm_split(pl->cosv, pl->sinv, H, L / M, r2, i2, pl->env_scale, pe, NULL, NULL, 0, 0,
                 0.0, NULL);
        const Py_ssize_t ce = pl->col_env;
        cm_range_sums(pe, 1, H + 1, acc);
        for (int t = 0; t < PM_LANES; t++)
            if (outs[t] != NULL) outs[t][ce] = acc[t];
        for (Py_ssize_t j = 0; j < pl->n_env; j++) {
            cm_range_sums(pe, pl->env_bands[2 * j], pl->env_bands[2 * j + 1], acc);
            for (int t = 0; t < PM_LANES; t++)
                if (outs[t] != NULL) outs[t][ce + 1 + j] = acc[t];
        }
        /* The lines: one weight per bin for every lane when the lanes share speed and
           channel (a nominal speed), else lane by lane (a speed channel). */
        int same = 1;
        for (int t = 1; t < PM_LANES; t++)
            if (outs[t] != NULL && (spd[t] != spd[0] || chan[t] != chan[0])) same = 0;
        if (same && pl->n_lines > 0) {
            const double *mult = pl->line_mult + chan[0] * pl->n_lines;
            const Py_ssize_t first = ce + 1 + pl->n_env;
            for (Py_ssize_t j = 0; j < pl->n_lines; j++) {
                const double c = mult[j] * spd[0] / pl->df;
                double s_in[PM_LANES], s_lo[PM_LANES], s_hi[PM_LANES], w_in, w_lo, w_hi;
                if (!isfinite(c)) continue;  /* the columns stay 0 */
                const double h = pl->tol * c > 2.0 ? pl->tol * c : 2.0;
                const double g = 4.0 * h;
                cm_interval_all(pe, c - h, c + h, H, s_in, &w_in);
                cm_interval_all(pe, c - g, c - h, H, s_lo, &w_lo);
                cm_interval_all(pe, c + h, c + g, H, s_hi, &w_hi);
                for (int t = 0; t < PM_LANES; t++) {
                    if (outs[t] == NULL) continue;
                    outs[t][first + 2 * j] = w_in > 0.0 ? s_in[t] / w_in : 0.0;
                    outs[t][first + 2 * j + 1] = (w_lo + w_hi) > 0.0 ?
                        (s_lo[t] + s_hi[t]) / (w_lo + w_hi) : 0.0;
                }
            }
            return;
        }
        for (int t = 0; t < PM_LANES; t++) {
            double *o = outs[t];
            if (o == NULL || pl->n_lines == 0) continue;
            const double *mult = pl->line_mult + chan[t] * pl->n_lines;
            double *dst = o + ce + 1 + pl->n_env;
            for (Py_ssize_t j = 0; j < pl->n_lines; j++) {
                const double c = mult[j] * spd[t] / pl->df;
                double w_in, w_lo, w_hi;
                if (!isfinite(c)) { dst[2 * j] = dst[2 * j + 1] = 0.0; continue; }
                const double h = pl->tol * c > 2.0 ? pl->tol * c : 2.0;
                const double g = 4.0 * h;
                const double s_in = cm_interval(pe, t, c - h, c + h, H, &w_in);
                const double s_lo = cm_interval(pe, t, c - g, c - h, H, &w_lo);
                const double s_hi = cm_interval(pe, t, c + h, c + g, H, &w_hi);
                dst[2 * j] = w_in > 0.0 ? s_in / w_in : 0.0;
                dst[2 * j + 1] = (w_lo + w_hi) > 0.0 ? (s_lo + s_hi) / (w_lo + w_hi) : 0.0;
            }
        }
    }

    /* Every feature of the windows block * PM_LANES .. + PM_LANES - 1 of the flat
       (channel, window) index, written to out[c, w, :] (n_raw columns). */
    static void cm_block(const double *x, Py_ssize_t n_samples, Py_ssize_t n_win,
                         Py_ssize_t hop, Py_ssize_t total, Py_ssize_t block,
                         const cm_plan *pl, double *scratch, double *out)
    {
        const Py_ssize_t L = pl->L, N = L / 2, M = pl->M;
        double *ar = scratch, *ai = ar + N * PM_LANES;
        double *br = ai + N * PM_LANES, *bi = br + N * PM_LANES;
        double *pw = bi + N * PM_LANES;
        double *zr = pw + (N + 1) * PM_LANES, *zi = zr + M * PM_LANES;
        double *yr = zi + M * PM_LANES, *yi = yr + M * PM_LANES;
        double *pe = yi + M * PM_LANES;
        const double *p[PM_LANES];
        double *outs[PM_LANES], spd[PM_LANES];
        int chan[PM_LANES] = {0}, any_spectrum = 0;
        const int changes = (pl->flags & CM_CHANGES) != 0;
        const double inv_l = 1.0 / (double)L, inv_l1 = 1.0 / (double)(L - 1);

        for (int t = 0; t < PM_LANES; t++) {
            const Py_ssize_t flat = block * PM_LANES + t;
            if (flat < total) {
                const Py_ssize_t c = flat / n_win, w = flat - c * n_win;
                p[t] = x + c * n_samples + w * hop;
                outs[t] = out + flat * pl->n_raw;
                spd[t] = pl->speed_hz[flat];
                chan[t] = (int)c;
            } else {  /* past the last window: lane 0's data again, no output */
                p[t] = p[0];
                outs[t] = NULL;
                spd[t] = spd[0];
                chan[t] = chan[0];
            }
        }

        /* Pass 1: gather sample pairs into (ar, ai), the FFT's packed input; sums,
           extremes, zero crossings and absolute changes. */
        const pv zero = PV_SET(0.0), one = PV_SET(1.0);
        pv s0[CM_NV], s1[CM_NV], sq[CM_NV], sa[CM_NV], mn[CM_NV], mx[CM_NV];
        pv zc[CM_NV], mc[CM_NV], prev[CM_NV];
        for (int u = 0; u < CM_NV; u++) {
            s0[u] = s1[u] = sq[u] = sa[u] = zc[u] = mc[u] = zero;
            mn[u] = mx[u] = prev[u] = PV_GATHER(p, u, 0);
        }
        /* One sample pair (v0, v1) = samples 2n, 2n + 1 of lane group u. */
        #define CM_PASS1(v0, v1, n, u) do { \
            PV_ST(ar + (n) * PM_LANES + (u) * PV_W, v0); \
            PV_ST(ai + (n) * PM_LANES + (u) * PV_W, v1); \
            s0[u] = PV_ADD(s0[u], v0); \
            s1[u] = PV_ADD(s1[u], v1); \
            sq[u] = PV_ADD(sq[u], PV_ADD(PV_MUL(v0, v0), PV_MUL(v1, v1))); \
            sa[u] = PV_ADD(sa[u], PV_ADD(PV_ABS(v0), PV_ABS(v1))); \
            mn[u] = PV_MIN(mn[u], PV_MIN(v0, v1)); \
            mx[u] = PV_MAX(mx[u], PV_MAX(v0, v1)); \
            if (changes) { \
                zc[u] = PV_ADD(zc[u], PV_ADD(PV_CROSS(v0, prev[u], zero, one), \
                                             PV_CROSS(v1, v0, zero, one))); \
                mc[u] = PV_ADD(mc[u], PV_ADD(PV_ABS(PV_SUB(v0, prev[u])), \
                                             PV_ABS(PV_SUB(v1, v0)))); \
                prev[u] = v1; \
            } \
        } while (0)
        #if CM_PAIRS == 2
        for (Py_ssize_t n = 0; n < N; n += 2) {  /* N is a multiple of 8 */
            pv v0, v1, v2, v3;
            PV_QUAD(p, n, v0, v1, v2, v3);
            CM_PASS1(v0, v1, n, 0);
            CM_PASS1(v2, v3, n + 1, 0);
        }
        #else
        for (Py_ssize_t n = 0; n < N; n++) {
            for (int u = 0; u < CM_NV; u++) {
                pv v0, v1;
                PV_PAIR(p, u, n, v0, v1);
                CM_PASS1(v0, v1, n, u);
            }
        }
        #endif
        #undef CM_PASS1
        double mu[PM_LANES], sqv[PM_LANES], sav[PM_LANES], mnv[PM_LANES], mxv[PM_LANES];
        double zcv[PM_LANES], mcv[PM_LANES];
        for (int u = 0; u < CM_NV; u++) {
            const int t = u * PV_W;
            PV_ST(mu + t, PV_MUL(PV_ADD(s0[u], s1[u]), PV_SET(inv_l)));
            PV_ST(sqv + t, sq[u]);
            PV_ST(sav + t, sa[u]);
            PV_ST(mnv + t, mn[u]);
            PV_ST(mxv + t, mx[u]);
            PV_ST(zcv + t, zc[u]);
            PV_ST(mcv + t, mc[u]);
        }

        /* Pass 2: central moments of d = x - mean and the windowed FFT input, in place. */
        pv sd[CM_NV], m2[CM_NV], m3[CM_NV], m4[CM_NV];
        for (int u = 0; u < CM_NV; u++) {
            const int t = u * PV_W;
            const pv m = PV_LD(mu + t);
            sd[u] = m2[u] = m3[u] = m4[u] = zero;
            for (Py_ssize_t n = 0; n < N; n++) {
                const pv a = PV_SUB(PV_LD(ar + n * PM_LANES + t), m);
                const pv b = PV_SUB(PV_LD(ai + n * PM_LANES + t), m);
                const pv a2 = PV_MUL(a, a), b2 = PV_MUL(b, b);
                sd[u] = PV_ADD(sd[u], PV_ADD(a, b));
                m2[u] = PV_ADD(m2[u], PV_ADD(a2, b2));
                m3[u] = PV_ADD(m3[u], PV_ADD(PV_MUL(a2, a), PV_MUL(b2, b)));
                m4[u] = PV_ADD(m4[u], PV_ADD(PV_MUL(a2, a2), PV_MUL(b2, b2)));
                PV_ST(ar + n * PM_LANES + t, PV_MUL(a, PV_SET(pl->win[2 * n])));
                PV_ST(ai + n * PM_LANES + t, PV_MUL(b, PV_SET(pl->win[2 * n + 1])));
            }
        }
        double sdv[PM_LANES], m2v[PM_LANES], m3v[PM_LANES], m4v[PM_LANES];
        for (int u = 0; u < CM_NV; u++) {
            const int t = u * PV_W;
            PV_ST(sdv + t, sd[u]);
            PV_ST(m2v + t, m2[u]);
            PV_ST(m3v + t, m3[u]);
            PV_ST(m4v + t, m4[u]);
        }
        for (int t = 0; t < PM_LANES; t++) {
            double *o = outs[t];
            if (o == NULL) continue;
            for (Py_ssize_t j = 0; j < pl->n_raw; j++) o[j] = 0.0;
            const int constant = mxv[t] == mnv[t];
            double delta = 0.0, c2 = 0.0, c3 = 0.0, c4 = 0.0;
            if (!constant) {  /* shift the raw moments about mu by delta = mean(d) */
                delta = sdv[t] * inv_l;
                const double r2 = m2v[t] * inv_l, r3 = m3v[t] * inv_l, r4 = m4v[t] * inv_l;
                const double dd = delta * delta;
                c4 = r4 - 4.0 * delta * r3 + 6.0 * dd * r2 - 3.0 * dd * dd;
                c3 = r3 - 3.0 * delta * r2 + 2.0 * dd * delta;
                c2 = r2 - dd;
                any_spectrum = 1;
            }
            const double rms = sqrt(sqv[t] * inv_l), meanabs = sav[t] * inv_l;
            const double maxabs = fabs(mnv[t]) > fabs(mxv[t]) ? fabs(mnv[t]) : fabs(mxv[t]);
            o[0] = mu[t] + delta;
            if (c2 > 0.0) {
                const double sd_ = sqrt(c2);
                o[1] = sd_;
                o[6] = c3 / (c2 * sd_);
                o[7] = c4 / (c2 * c2) - 3.0;
            }
            o[2] = rms;
            o[3] = mnv[t];
            o[4] = mxv[t];
            o[5] = mxv[t] - mnv[t];
            o[8] = rms > 0.0 ? maxabs / rms : 0.0;
            o[9] = meanabs > 0.0 ? rms / meanabs : 0.0;
            o[10] = meanabs > 0.0 ? maxabs / meanabs : 0.0;
            o[11] = zcv[t] * inv_l1;
            o[12] = mcv[t] * inv_l1;
            if (constant) outs[t] = NULL;  /* no spectrum: its columns stay 0 */
        }
        if (!(pl->flags & CM_SPECTRUM) || !any_spectrum) return;

        /* Spectrum; the analytic band goes to (zr, zi), shifted to baseband. */
        double *rr, *ri, acc[PM_LANES];
        cm_stats st;
        const int env = (pl->flags & CM_ENVELOPE) != 0;
        pm_fft(N, -1, ar, ai, br, bi, pl->cosv, pl->sinv, 2, 0, &rr, &ri);
        cm_split(pl->cosv, pl->sinv, N, 1, rr, ri, pl->spec_scale, pw, env ? zr : NULL, zi,
                 pl->dlo, pl->dhi, 2.0 * inv_l, &st);
        const Py_ssize_t cs = pl->col_spec;
        for (int t = 0; t < PM_LANES; t++) {
            double *o = outs[t];
            if (o == NULL || !(st.tot[t] > 0.0)) continue;
            o[cs] = st.tot[t];
            o[cs + 1] = pl->df * (st.cen[t] / st.tot[t]);
            o[cs + 2] = pl->df * st.peak[t];
        }
        for (Py_ssize_t j = 0; j < pl->n_bands; j++) {
            cm_range_sums(pw, pl->bands[2 * j], pl->bands[2 * j + 1], acc);
            for (int t = 0; t < PM_LANES; t++)
                if (outs[t] != NULL) outs[t][cs + 3 + j] = acc[t];
        }
        for (int t = 0; t < PM_LANES; t++) {
            double *o = outs[t];
            if (o == NULL || pl->n_orders == 0) continue;
            const double s = spd[t] / pl->df;
            for (Py_ssize_t k = 1; k <= pl->n_orders; k++) {
                double w;
                o[cs + 3 + pl->n_bands + k - 1] = isfinite(s) ? cm_interval(
                    pw, t, ((double)k - 0.5) * s, ((double)k + 0.5) * s, N, &w) : 0.0;
            }
        }
        if (env) cm_envelope(pl, zr, zi, yr, yi, pe, outs, spd, chan);
    }
    """
    ctypedef struct cm_plan:
        Py_ssize_t L
        const double *win
        const double *cosv
        const double *sinv
        double spec_scale
        double df
        int flags
        Py_ssize_t n_bands
        const Py_ssize_t *bands
        Py_ssize_t n_orders
        Py_ssize_t dlo
        Py_ssize_t dhi
        Py_ssize_t M
        const double *w2m
        double w2m_sum
        double env_scale
        Py_ssize_t n_env
        const Py_ssize_t *env_bands
        Py_ssize_t n_lines
        const double *line_mult
        double tol
        const double *speed_hz
        Py_ssize_t n_raw
        Py_ssize_t col_spec
        Py_ssize_t col_env

    int CM_SPECTRUM
    int CM_ENVELOPE
    int CM_CHANGES
    int CM_N_TIME
    int PV_W
    Py_ssize_t cm_scratch_len(Py_ssize_t L, Py_ssize_t M) nogil
    void cm_block(const double *x, Py_ssize_t n_samples, Py_ssize_t n_win, Py_ssize_t hop,
                  Py_ssize_t total, Py_ssize_t block, const cm_plan *pl, double *scratch,
                  double *out) noexcept nogil
