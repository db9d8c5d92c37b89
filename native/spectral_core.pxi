# Included by spectral.pyx: split step, band sums, envelope and one block of windows (C).

cdef extern from *:
    """
    /* Per-lane results of a split: total power, sum of k P[k], first argmax k >= 1. */
    typedef struct { double tot[PM_LANES], cen[PM_LANES], peak[PM_LANES]; } pm_stats;

    /* Split the N-point FFT Z of a real L-point signal packed as z[n] = x[2n] +
       i x[2n+1] into its spectrum X[0..N]; store P[k] = m_k |X[k]|^2 * scale.
       If yr is not NULL, also store Y[k] = 2 X[k] for k in [lo, hi) (the
       analytic band) and zero the rest of Y's lower N points.  If st is not NULL,
       also fill it (the sums ride along here, where each k has enough other
       work to hide the latency of the running sums). */
    static void pm_split(const pm_plan *pl, const double *zr, const double *zi, double scale,
                         double *PM_RESTRICT pw, double *yr, double *yi,
                         Py_ssize_t lo, Py_ssize_t hi, pm_stats *st)
    {
        const Py_ssize_t N = pl->L / 2;
        const pv half = PV_SET(0.5), two = PV_SET(2.0);
        pv tot[PM_LANES / 2], cen[PM_LANES / 2], best[PM_LANES / 2], bestk[PM_LANES / 2];
        for (int u = 0; u < PM_LANES / 2; u++) {
            tot[u] = PV_SET(0.0); cen[u] = PV_SET(0.0);
            best[u] = PV_SET(-1.0); bestk[u] = PV_SET(1.0);
        }
        if (yr != NULL) {  /* Y's lower half outside the band; pm_fft skips the upper */
            memset(yr, 0, sizeof(double) * lo * PM_LANES);
            memset(yi, 0, sizeof(double) * lo * PM_LANES);
            memset(yr + hi * PM_LANES, 0, sizeof(double) * (N - hi) * PM_LANES);
            memset(yi + hi * PM_LANES, 0, sizeof(double) * (N - hi) * PM_LANES);
        }
        for (Py_ssize_t k = 0; k <= N; k++) {
            const Py_ssize_t a = (k == N ? 0 : k) * PM_LANES;
            const Py_ssize_t b = (k == 0 ? 0 : N - k) * PM_LANES;
            const pv wr = PV_SET(pl->cosv[k]), wi = PV_SET(-pl->sinv[k]);
            const pv mk = PV_SET((k == 0 || k == N) ? scale : 2.0 * scale);
            const pv kv = PV_SET((double)k);
            const int analytic = yr != NULL && k >= lo && k < hi;
            for (int t = 0; t < PM_LANES; t += 2) {
                const pv z_r = PV_LD(zr + a + t), z_i = PV_LD(zi + a + t);
                const pv c_r = PV_LD(zr + b + t), nc_i = PV_LD(zi + b + t);  /* conj: -nc_i */
                const pv fer = PV_MUL(half, PV_ADD(z_r, c_r));
                const pv fei = PV_MUL(half, PV_SUB(z_i, nc_i));
                const pv for_ = PV_MUL(half, PV_ADD(z_i, nc_i));
                const pv foi = PV_MUL(half, PV_SUB(c_r, z_r));
                const pv x_r = PV_ADD(fer, CMUL_R(wr, wi, for_, foi));
                const pv x_i = PV_ADD(fei, CMUL_I(wr, wi, for_, foi));
                const pv v = PV_MUL(mk, PV_ADD(PV_MUL(x_r, x_r), PV_MUL(x_i, x_i)));
                PV_ST(pw + k * PM_LANES + t, v);
                if (analytic) {
                    PV_ST(yr + k * PM_LANES + t, PV_MUL(two, x_r));
                    PV_ST(yi + k * PM_LANES + t, PV_MUL(two, x_i));
                }
                if (st != NULL) {
                    const int u = t / 2;
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
            for (int t = 0; t < PM_LANES; t += 2) {
                PV_ST(st->tot + t, tot[t / 2]);
                PV_ST(st->cen + t, cen[t / 2]);
                PV_ST(st->peak + t, bestk[t / 2]);
            }
        }
    }

    /* out[t][col + j] = sum of P over band j, for each lane t that has an output.
       Four running sums per lane pair, so the adds do not wait on each other. */
    static void pm_band_sums(const double *pw, Py_ssize_t n_bands, const Py_ssize_t *bands,
                             double **outs, Py_ssize_t col)
    {
        double acc[PM_LANES];
        for (Py_ssize_t j = 0; j < n_bands; j++) {
            const Py_ssize_t lo = bands[2 * j], hi = bands[2 * j + 1];
            for (int t = 0; t < PM_LANES; t += 2) {
                pv s0 = PV_SET(0.0), s1 = PV_SET(0.0), s2 = PV_SET(0.0), s3 = PV_SET(0.0);
                Py_ssize_t k = lo;
                for (; k + 4 <= hi; k += 4) {
                    s0 = PV_ADD(s0, PV_LD(pw + k * PM_LANES + t));
                    s1 = PV_ADD(s1, PV_LD(pw + (k + 1) * PM_LANES + t));
                    s2 = PV_ADD(s2, PV_LD(pw + (k + 2) * PM_LANES + t));
                    s3 = PV_ADD(s3, PV_LD(pw + (k + 3) * PM_LANES + t));
                }
                for (; k < hi; k++)
                    s0 = PV_ADD(s0, PV_LD(pw + k * PM_LANES + t));
                PV_ST(acc + t, PV_ADD(PV_ADD(s0, s1), PV_ADD(s2, s3)));
            }
            for (int t = 0; t < PM_LANES; t++)
                if (outs[t] != NULL) outs[t][col + j] = acc[t];
        }
    }

    /* Centroid and dominant frequency from the split's stats. */
    static void pm_centroid_peak(const pm_plan *pl, const pm_stats *st, double **outs)
    {
        for (int t = 0; t < PM_LANES; t++) {
            if (outs[t] != NULL && st->tot[t] > 0.0) {
                outs[t][0] = pl->df * (st->cen[t] / st->tot[t]);
                outs[t][1] = pl->df * st->peak[t];
            }
        }
    }

    /* Envelope: inverse FFT of the analytic band (in yr, yi), magnitude, mean
       removed, packed as complex pairs and transformed; envelope band sums. */
    static void pm_envelope(const pm_plan *pl, double *yr, double *yi, double *sr, double *si,
                            double *pw, double **outs)
    {
        const Py_ssize_t L = pl->L, N = L / 2;
        const pv inv_l = PV_SET(1.0 / (double)L);
        double *rr, *ri, *er, *ei, mean[PM_LANES];
        pm_fft(L, +1, yr, yi, sr, si, pl->cosv, pl->sinv, 1, 1, &rr, &ri);
        er = (rr == yr) ? sr : yr;
        ei = (rr == yr) ? si : yi;
        for (int t = 0; t < PM_LANES; t += 2) {
            pv acc = PV_SET(0.0);
            for (Py_ssize_t n = 0; n < N; n++) {
                const Py_ssize_t e = 2 * n * PM_LANES + t, f = e + PM_LANES;
                const pv re0 = PV_LD(rr + e), im0 = PV_LD(ri + e);
                const pv re1 = PV_LD(rr + f), im1 = PV_LD(ri + f);
                const pv m0 = PV_MUL(PV_SQRT(PV_ADD(PV_MUL(re0, re0), PV_MUL(im0, im0))), inv_l);
                const pv m1 = PV_MUL(PV_SQRT(PV_ADD(PV_MUL(re1, re1), PV_MUL(im1, im1))), inv_l);
                PV_ST(er + n * PM_LANES + t, m0);
                PV_ST(ei + n * PM_LANES + t, m1);
                acc = PV_ADD(acc, PV_ADD(m0, m1));
            }
            PV_ST(mean + t, PV_MUL(acc, inv_l));
        }
        for (int t = 0; t < PM_LANES; t += 2) {
            const pv mu = PV_LD(mean + t);
            for (Py_ssize_t n = 0; n < N; n++) {
                PV_ST(er + n * PM_LANES + t, PV_SUB(PV_LD(er + n * PM_LANES + t), mu));
                PV_ST(ei + n * PM_LANES + t, PV_SUB(PV_LD(ei + n * PM_LANES + t), mu));
            }
        }
        pm_fft(N, -1, er, ei, rr, ri, pl->cosv, pl->sinv, 2, 0, &rr, &ri);
        pm_split(pl, rr, ri, pl->env_scale, pw, NULL, NULL, 0, 0, NULL);
        pm_band_sums(pw, pl->n_env, pl->env_bands, outs, 2 + pl->n_bands);
    }

    /* Features of the windows block * PM_LANES ... (+ PM_LANES - 1) of the flat
       (channel, window) index, written to out[c, w, :]. */
    static void pm_spectral_block(const double *x, Py_ssize_t n_samples, Py_ssize_t n_win,
                                  Py_ssize_t hop, Py_ssize_t total, Py_ssize_t block,
                                  const pm_plan *pl, double *scratch, double *out,
                                  Py_ssize_t n_out)
    {
        const Py_ssize_t L = pl->L, N = L / 2;
        double *ar = scratch, *ai = ar + L * PM_LANES;
        double *br = ai + L * PM_LANES, *bi = br + L * PM_LANES;
        double *pw = bi + L * PM_LANES;
        double *rr, *ri, *or_, *oi;
        double *outs[PM_LANES];
        pm_stats stats;

        /* Load: subtract the mean, apply the window, pack pairs as complex.
           The sums run over sample pairs with two vectors of partial sums, so
           they are not one long chain of dependent adds. */
        for (int t = 0; t < PM_LANES; t++) {
            const Py_ssize_t flat = block * PM_LANES + t;
            outs[t] = NULL;
            if (flat >= total) {  /* past the last window: zeros, no output */
                for (Py_ssize_t n = 0; n < N; n++) {
                    ar[n * PM_LANES + t] = 0.0;
                    ai[n * PM_LANES + t] = 0.0;
                }
                continue;
            }
            const Py_ssize_t c = flat / n_win, w = flat - c * n_win;
            const double *PM_RESTRICT p = x + c * n_samples + w * hop;
            pv s0 = PV_SET(0.0), s1 = PV_SET(0.0);
            pv mn = PV_LD(p), mx = mn;
            for (Py_ssize_t i = 0; i < L; i += 4) {  /* L is a multiple of 16 */
                const pv v0 = PV_LD(p + i), v1 = PV_LD(p + i + 2);
                s0 = PV_ADD(s0, v0);
                s1 = PV_ADD(s1, v1);
                mn = PV_MIN(mn, PV_MIN(v0, v1));
                mx = PV_MAX(mx, PV_MAX(v0, v1));
            }
            const double mu = PV_HSUM(PV_ADD(s0, s1)) / (double)L;
            const double lo_v = PV_LO(mn) < PV_HI(mn) ? PV_LO(mn) : PV_HI(mn);
            const double hi_v = PV_LO(mx) > PV_HI(mx) ? PV_LO(mx) : PV_HI(mx);
            double *o = out + flat * n_out;
            for (Py_ssize_t j = 0; j < n_out; j++) o[j] = 0.0;
            if (hi_v != lo_v) outs[t] = o;   /* constant windows keep all zeros */
            for (Py_ssize_t n = 0; n < N; n++) {
                ar[n * PM_LANES + t] = (p[2 * n] - mu) * pl->win[2 * n];
                ai[n * PM_LANES + t] = (p[2 * n + 1] - mu) * pl->win[2 * n + 1];
            }
        }

        /* Spectrum; the analytic band goes to whichever buffer is free. */
        pm_fft(N, -1, ar, ai, br, bi, pl->cosv, pl->sinv, 2, 0, &rr, &ri);
        or_ = (rr == ar) ? br : ar;
        oi = (rr == ar) ? bi : ai;
        pm_split(pl, rr, ri, pl->spec_scale, pw, pl->n_env > 0 ? or_ : NULL, oi,
                 pl->demod_lo, pl->demod_hi, &stats);
        pm_centroid_peak(pl, &stats, outs);
        pm_band_sums(pw, pl->n_bands, pl->bands, outs, 2);
        if (pl->n_env > 0) pm_envelope(pl, or_, oi, rr, ri, pw, outs);
    }
    """
    void pm_spectral_block(const double *x, Py_ssize_t n_samples, Py_ssize_t n_win,
                           Py_ssize_t hop, Py_ssize_t total, Py_ssize_t block,
                           const pm_plan *pl, double *scratch, double *out,
                           Py_ssize_t n_out) noexcept nogil
