# Included by condition_body.pxi: bands by fractional bin weights and the squared envelope (C).

cdef extern from *:
    """
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
    """
