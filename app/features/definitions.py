"""Exact definitions of the features and input checks, for model cards and docs/features.md."""

# docs/features.md quotes every text below verbatim (tests/features/test_definitions.py).

from __future__ import annotations

from app.features.spec import FeatureSpec

COMMON = (
    "Windows of L samples at fs Hz start every hop samples; df = fs / L. "
    "Statistics are population moments of the raw samples x (ddof 0), two-pass about the "
    "mean. The spectrum is X = rfft((x - mean(x)) w) with the window function w; its power "
    "P[k] = m_k |X[k]|^2 / (L sum(w^2)), m_k = 1 at k = 0 and L/2, else 2, so sum(P) is the "
    "variance for w = 1. A constant window (max = min) gives 0 for every moment, ratio "
    "and spectral feature."
)
ENVELOPE = (
    "Squared envelope spectrum (Randall and Antoni 2011): the analytic signal of the band "
    "[lo, hi) of X, shifted to baseband, y[m] = (2/L) sum_j X[lo + j] exp(2 pi i j m / M), "
    "M a power of two >= 2 (hi - lo); |y|^2 minus its DC along the window's taper, "
    "e = |y|^2 - (sum |y|^2 / sum w_M^2) w_M^2; Pe[k] = m_k |rfft(e)[k]|^2 / M^2, bins of "
    "df up to (hi - lo) df. This equals the envelope spectrum computed over the whole "
    "window (no aliasing)."
)
BINS = (
    "Speed-dependent bands are read with fractional bin weights: bin k stands for "
    "[k - 1/2, k + 1/2) df and a band [a, b) gives it the weight "
    "clip(min(b, k + 1/2) - max(a, k - 1/2), 0, 1); DC is never read."
)

GROUPS: dict[str, str] = {
    "mean": "mean: the mean of x (gain-sensitive).",
    "std": "std: the standard deviation of x (gain-sensitive).",
    "rms": "rms: sqrt(mean(x^2)) (gain-sensitive).",
    "min": "min: the smallest sample (gain-sensitive).",
    "max": "max: the largest sample (gain-sensitive).",
    "peak_to_peak": "peak_to_peak: max - min (gain-sensitive).",
    "skewness": "skewness: m3 / m2^1.5 of the central moments m2, m3.",
    "excess_kurtosis": "excess_kurtosis: m4 / m2^2 - 3 (0 for Gaussian noise, large for "
                       "impacts).",
    "kurtosis": "kurtosis (version 1 name): the excess kurtosis m4 / m2^2 - 3.",
    "crest_factor": "crest_factor: max|x| / rms.",
    "shape_factor": "shape_factor: rms / mean|x|.",
    "impulse_factor": "impulse_factor: max|x| / mean|x|.",
    "zero_crossing_rate": "zero_crossing_rate: the share of the L - 1 sample pairs whose "
                          "signs (x >= 0) differ.",
    "mean_absolute_change": "mean_absolute_change: sum |x[i] - x[i-1]| / (L - 1) "
                            "(gain-sensitive).",
    "spectral_centroid": "spectral_centroid: sum(k df P[k]) / sum(P), Hz.",
    "dominant_frequency": "dominant_frequency: k df of the first largest P[k], k >= 1, Hz.",
    "band_share": "band_share_<lo>_<hi>Hz: the sum of P[k] over lo <= k df < hi, divided by "
                  "sum(P).",
    "band_energy": "band_<lo>_<hi>Hz: the sum of P[k] over lo <= k df < hi, in unit^2 "
                   "(gain-sensitive).",
    "order_share": "order_<n>x_share: the power in [(n - 1/2) f, (n + 1/2) f) Hz, f the "
                   "shaft frequency, divided by sum(P) (order-normalised spectrum).",
    "envelope_share": "env_share_<lo>_<hi>Hz: the sum of Pe[k] over lo <= k df < hi, divided "
                      "by the sum of Pe[k] for k >= 1.",
    "envelope_energy": "env_energy_<lo>_<hi>Hz: the sum of Pe[k] over lo <= k df < hi, in "
                       "unit^4 (gain-sensitive).",
    "envelope_band_energy": "env_band_<lo>_<hi>Hz (version 1): the power of the magnitude "
                            "envelope |analytic signal| over the band (gain-sensitive).",
    "defect_lines": "env_<defect>_h<n>: the mean of Pe over the line [c - h, c + h) divided "
                    "by its mean over the background [c - 4h, c - h) and [c + h, c + 4h), "
                    "with c = n x order x f / df bins, h = max(tolerance x c, 2) bins; "
                    "order: shaft 1, FTF, BSF, BPFO, BPFI of the channel's bearing; f the "
                    "nominal shaft frequency or the window mean of the speed channel (rpm) "
                    "/ 60.",
}

VALIDITY = (
    "Input checks, per channel, on the samples with non-finite values set to 0: "
    "non-finite (bit 1): a NaN or infinite sample; flat (bit 2): max = min or the standard "
    "deviation at or below the flat floor (flat_ratio x the smallest training standard "
    "deviation); clipped (bit 4): more than clip_share of the samples within "
    "clip_tolerance x (max - min) of the maximum, or of the minimum, and not flat; level "
    "low / high (bits 8, 16): the RMS below the smallest training RMS / level_factor or "
    "above the largest x level_factor; speed (bit 32): the speed channel's mean outside "
    "the same envelope of training speeds, or not above 0. The window's reason is the OR "
    "over its channels; it is valid when the reason is 0. An invalid window's label is -1 "
    "and its scores 0."
)


def definitions_for(spec: FeatureSpec) -> list[str]:
    """The definitions that apply to ``spec``'s features, in output order."""
    out = [COMMON]
    if spec.needs_envelope:
        out.append(ENVELOPE)
    if spec.kinematics is not None:
        out.append(BINS)
    out += [GROUPS[f] for f in spec.features]
    return out
