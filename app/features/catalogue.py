"""Feature names of each spec version, their families, and what each one needs."""

from __future__ import annotations

# -- version 1 (kept computable so every model in a registry still evaluates) -----------
TIME_FEATURES: tuple[str, ...] = (
    "mean", "std", "rms", "min", "max", "peak_to_peak", "skewness", "kurtosis",
    "crest_factor", "shape_factor", "impulse_factor", "zero_crossing_rate",
    "mean_absolute_change",
)
# Groups: "band_energy" expands to one feature per band, likewise the envelope.
SPECTRAL_FEATURES: tuple[str, ...] = ("spectral_centroid", "dominant_frequency", "band_energy")
ENVELOPE_FEATURES: tuple[str, ...] = ("envelope_band_energy",)
ALL_FEATURES: tuple[str, ...] = TIME_FEATURES + SPECTRAL_FEATURES + ENVELOPE_FEATURES

# -- version 2: scale-free by default, absolute levels opt-in ------------------------------
# The time statistics of the native kernel, in its raw column order.
TIME_FEATURES_V2: tuple[str, ...] = (
    "mean", "std", "rms", "min", "max", "peak_to_peak", "skewness", "excess_kurtosis",
    "crest_factor", "shape_factor", "impulse_factor", "zero_crossing_rate",
    "mean_absolute_change",
)
SPECTRAL_FEATURES_V2: tuple[str, ...] = (
    "spectral_centroid", "dominant_frequency", "band_share", "band_energy", "order_share")
ENVELOPE_FEATURES_V2: tuple[str, ...] = ("envelope_share", "envelope_energy", "defect_lines")
FEATURES_V2: tuple[str, ...] = TIME_FEATURES_V2 + SPECTRAL_FEATURES_V2 + ENVELOPE_FEATURES_V2

# Proportional to the sensor's gain (or its square): a re-ranged transmitter or a sensor of
# another sensitivity moves them, so a model using them is flagged on its card.
GAIN_SENSITIVE: frozenset[str] = frozenset({
    "mean", "std", "rms", "min", "max", "peak_to_peak", "mean_absolute_change",
    "band_energy", "envelope_energy"})
# Need the shaft speed (nominal or from a speed channel).
NEEDS_SPEED: frozenset[str] = frozenset({"order_share", "defect_lines"})
# The default family: dimensionless, unchanged by any gain.
SCALE_FREE_DEFAULT: tuple[str, ...] = (
    "skewness", "excess_kurtosis", "crest_factor", "shape_factor", "impulse_factor",
    "spectral_centroid", "band_share", "envelope_share")
ABSOLUTE_FAMILY: tuple[str, ...] = tuple(f for f in FEATURES_V2 if f in GAIN_SENSITIVE)
