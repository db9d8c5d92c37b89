"""The versioned feature spec: what is extracted from which channels, stored with each model."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from app.core.canonical import canonical_bytes, sha256_hex
from app.core.errors import UsageError

SPEC_VERSION = 1

TIME_FEATURES: tuple[str, ...] = (
    "mean", "std", "rms", "min", "max", "peak_to_peak", "skewness", "kurtosis",
    "crest_factor", "shape_factor", "impulse_factor", "zero_crossing_rate",
    "mean_absolute_change",
)
# Groups: "band_energy" expands to one feature per band, likewise the envelope.
SPECTRAL_FEATURES: tuple[str, ...] = ("spectral_centroid", "dominant_frequency", "band_energy")
ENVELOPE_FEATURES: tuple[str, ...] = ("envelope_band_energy",)
ALL_FEATURES: tuple[str, ...] = TIME_FEATURES + SPECTRAL_FEATURES + ENVELOPE_FEATURES
WINDOW_FUNCTIONS: tuple[str, ...] = ("rectangular", "hann", "hamming", "blackman")

Band = tuple[float, float]


def _equal_bands(lo: float, hi: float, n: int) -> tuple[Band, ...]:
    edges = np.linspace(lo, hi, n + 1)
    return tuple((float(a), float(b)) for a, b in zip(edges[:-1], edges[1:], strict=True))


@dataclass(frozen=True)
class FeatureSpec:
    """Windowing and feature choice; JSON round-trips via to_dict/from_dict, hashed canonically."""

    sample_rate: float  # Hz
    window: int = 2048  # samples per window (a power of two for spectral features)
    hop: int = 1024  # samples between window starts
    window_function: str = "hann"  # before the spectrum; time statistics see raw samples
    bands: tuple[Band, ...] = ()  # [low, high) Hz of each band energy
    envelope_filter: Band = (0.0, 0.0)  # [low, high) Hz demodulated for the envelope
    envelope_bands: tuple[Band, ...] = ()  # [low, high) Hz of the envelope spectrum
    features: tuple[str, ...] = ALL_FEATURES  # names from ALL_FEATURES
    channels: tuple[str, ...] = ("ch0",)  # input rows, in order
    version: int = field(default=SPEC_VERSION)

    @classmethod
    def default(cls, sample_rate: float, channels: tuple[str, ...] = ("ch0",),
                window: int = 2048, hop: int = 1024) -> FeatureSpec:
        """All features; 8 equal bands to Nyquist; envelope of fs/6..5fs/12, 10..610 Hz."""
        fs = float(sample_rate)
        # Bearing resonances sit in the upper kHz; defect frequencies of shafts
        # at 10..60 Hz are below a few hundred Hz.  Bands at least a bin wide.
        df = fs / window
        lo, hi = max(10.0, df), min(610.0, fs / 4)
        n_env = int(max(1, min(12, (hi - lo) // df)))
        return cls(
            sample_rate=fs, window=window, hop=hop, channels=tuple(channels),
            bands=_equal_bands(0.0, fs / 2, min(8, window // 4)),
            envelope_filter=(fs / 6, fs * 5 / 12),
            envelope_bands=_equal_bands(lo, hi, n_env),
        )

    def __post_init__(self) -> None:
        # Normalise lists from JSON into tuples so equality and hashing work.
        object.__setattr__(self, "bands", tuple(tuple(map(float, b)) for b in self.bands))
        object.__setattr__(self, "envelope_bands",
                           tuple(tuple(map(float, b)) for b in self.envelope_bands))
        object.__setattr__(self, "envelope_filter", tuple(map(float, self.envelope_filter)))
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "sample_rate", float(self.sample_rate))
        self._validate()

    def _validate(self) -> None:
        if self.version != SPEC_VERSION:
            raise UsageError(f"feature spec version {self.version} is not supported "
                             f"(this PlantML reads version {SPEC_VERSION})")
        if not (math.isfinite(self.sample_rate) and self.sample_rate > 0):
            raise UsageError(f"sample rate must be a positive number, got {self.sample_rate}")
        for name in ("window", "hop"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise UsageError(f"{name} must be a whole number of samples, got {value!r}")
        if self.window < 2 or self.hop < 1:
            raise UsageError(f"window must be >= 2 and hop >= 1 samples, "
                             f"got window {self.window}, hop {self.hop}")
        if not self.channels or len(set(self.channels)) != len(self.channels):
            raise UsageError(f"channels must be a non-empty list of distinct names, "
                             f"got {list(self.channels)}")
        unknown = [f for f in self.features if f not in ALL_FEATURES]
        if unknown or not self.features or len(set(self.features)) != len(self.features):
            raise UsageError(f"features must be distinct names from {list(ALL_FEATURES)}; "
                             f"got {list(self.features)}")
        if self.window_function not in WINDOW_FUNCTIONS:
            raise UsageError(f"window function must be one of {list(WINDOW_FUNCTIONS)}, "
                             f"got {self.window_function!r}")
        if self.needs_spectrum and (self.window < 16 or self.window & (self.window - 1)):
            # The FFT kernels and ONNX DFT on controllers are fast only there.
            raise UsageError(f"spectral features need a window that is a power of two "
                             f">= 16 samples, got {self.window}")
        if self.needs_spectrum:
            self._validate_bins()

    def _validate_bins(self) -> None:
        if "band_energy" in self.features and not self.bands:
            raise UsageError("band_energy is selected but no bands are given")
        for band in self.bands:
            self._bins(band, "band")
        if "envelope_band_energy" in self.features:
            if not self.envelope_bands:
                raise UsageError("envelope_band_energy is selected but no envelope bands")
            lo, hi = self._bins(self.envelope_filter, "envelope filter")
            if lo < 1 or hi > self.window // 2:
                raise UsageError(f"envelope filter {self.envelope_filter} Hz must lie strictly "
                                 f"between 0 and {self.sample_rate / 2:g} Hz (Nyquist)")
            for band in self.envelope_bands:
                self._bins(band, "envelope band")

    def _bins(self, band: tuple[float, ...], what: str) -> tuple[int, int]:
        """Bins k with lo <= k * fs / window < hi, as a range [lo, hi) of rfft bins."""
        if len(band) != 2 or not all(math.isfinite(v) for v in band):
            raise UsageError(f"{what} must be a (low, high) pair of numbers in Hz, got {band}")
        lo, hi = band
        freqs = np.arange(self.window // 2 + 1) * (self.sample_rate / self.window)
        inside = np.flatnonzero((freqs >= lo) & (freqs < hi))
        if not 0 <= lo < hi or inside.size == 0:
            raise UsageError(
                f"{what} {lo:g}..{hi:g} Hz holds no frequency bin at window {self.window} and "
                f"{self.sample_rate:g} Hz (bins every {self.sample_rate / self.window:.4g} Hz, "
                f"up to {self.sample_rate / 2:g} Hz)")
        return int(inside[0]), int(inside[-1]) + 1

    # -- derived -------------------------------------------------------------------
    @property
    def needs_spectrum(self) -> bool:
        """True if any spectral or envelope feature is selected."""
        return any(f not in TIME_FEATURES for f in self.features)

    @property
    def needs_envelope(self) -> bool:
        """True if envelope band energies are selected."""
        return "envelope_band_energy" in self.features

    def band_bins(self) -> np.ndarray:
        """(n_bands, 2) intp bin ranges of ``bands`` (empty if band_energy is off)."""
        rows = [self._bins(b, "band") for b in self.bands] if "band_energy" in self.features \
            else []
        return np.array(rows, dtype=np.intp).reshape(-1, 2)

    def envelope_bins(self) -> tuple[tuple[int, int], np.ndarray]:
        """Demodulation bin range and (n, 2) envelope band ranges (empty if off)."""
        if not self.needs_envelope:
            return (0, 0), np.zeros((0, 2), dtype=np.intp)
        rows = [self._bins(b, "envelope band") for b in self.envelope_bands]
        return (self._bins(self.envelope_filter, "envelope filter"),
                np.array(rows, dtype=np.intp).reshape(-1, 2))

    def window_values(self) -> np.ndarray:
        """The window function, periodic (DFT-even) form, float64 of length ``window``."""
        n = np.arange(self.window) * (2.0 * np.pi / self.window)
        if self.window_function == "hann":
            return 0.5 - 0.5 * np.cos(n)
        if self.window_function == "hamming":
            return 0.54 - 0.46 * np.cos(n)
        if self.window_function == "blackman":
            return 0.42 - 0.5 * np.cos(n) + 0.08 * np.cos(2 * n)
        return np.ones(self.window)

    def channel_feature_names(self) -> tuple[str, ...]:
        """Feature names of one channel, in output order."""
        names: list[str] = [f for f in TIME_FEATURES if f in self.features]
        names += [f for f in ("spectral_centroid", "dominant_frequency") if f in self.features]
        if "band_energy" in self.features:
            names += [f"band_{lo:g}_{hi:g}Hz" for lo, hi in self.bands]
        if self.needs_envelope:
            names += [f"env_band_{lo:g}_{hi:g}Hz" for lo, hi in self.envelope_bands]
        return tuple(names)

    def feature_names(self) -> tuple[str, ...]:
        """All output names, channel-major: ``<channel>.<feature>``."""
        per = self.channel_feature_names()
        return tuple(f"{ch}.{name}" for ch in self.channels for name in per)

    @property
    def n_features(self) -> int:
        """Number of output columns."""
        return len(self.channels) * len(self.channel_feature_names())

    # -- serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists)."""
        d = asdict(self)
        d["bands"] = [list(b) for b in self.bands]
        d["envelope_bands"] = [list(b) for b in self.envelope_bands]
        d["envelope_filter"] = list(self.envelope_filter)
        d["features"] = list(self.features)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        """Inverse of to_dict; unknown keys or versions are refused."""
        known = {f for f in cls.__dataclass_fields__}
        extra = sorted(set(data) - known)
        if extra:
            raise UsageError(f"feature spec has unknown fields {extra}")
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"feature spec is malformed: {exc}") from None

    def spec_hash(self) -> str:
        """SHA-256 of the canonical JSON of to_dict()."""
        return sha256_hex(canonical_bytes(self.to_dict()))
