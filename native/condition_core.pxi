# Included by condition_body.pxi: the version 2 features of one block of windows (C).

cdef extern from *:
    """
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
