"""The versioned feature spec: what is extracted from which channels, stored with each model."""

# Version 2 (the default) is scale-free and condition-aware: shape factors, band energy as a
# share of the total, the squared envelope spectrum read at the bearing defect orders.
# Version 1 specs (absolute levels, magnitude envelope) are still read and computed
# exactly as before, so every model already in a registry keeps evaluating; a version
# 1 spec serialises to the same dict and hash as it always did.

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from app.core.canonical import canonical_bytes, sha256_hex
from app.core.errors import UsageError
from app.features.catalogue import (
    ALL_FEATURES,
    ENVELOPE_FEATURES,
    ENVELOPE_FEATURES_V2,
    FEATURES_V2,
    GAIN_SENSITIVE,
    NEEDS_SPEED,
    SCALE_FREE_DEFAULT,
    SPECTRAL_FEATURES,
    TIME_FEATURES,
    TIME_FEATURES_V2,
)
from app.features.kinematics import Kinematics, top_bin
from app.features.spec_bins import (
    Band,
    bin_range,
    pow2_at_least,
    taper,
)
from app.features.spec_checks import check_fields
from app.features.spec_defaults import layout_v1, layout_v2

SPEC_VERSION = 2
_V1_FIELDS = ("sample_rate", "window", "hop", "window_function", "bands", "envelope_filter",
              "envelope_bands", "features", "channels", "version")

__all__ = ["ALL_FEATURES", "ENVELOPE_FEATURES", "FEATURES_V2", "SPECTRAL_FEATURES",
           "SPEC_VERSION", "TIME_FEATURES", "TIME_FEATURES_V2", "FeatureSpec", "Kinematics"]


class _VersionDefault(tuple[str, ...]):
    """The features argument left out: ``__post_init__`` puts the spec version's default."""


#: Identity-compared, so an explicit empty list is still refused as no features.
VERSION_DEFAULT: tuple[str, ...] = _VersionDefault()


@dataclass(frozen=True)
class FeatureSpec:
    """Windowing and feature choice; JSON round-trips via to_dict/from_dict, hashed canonically."""

    sample_rate: float  # Hz
    window: int = 2048  # samples per window (a power of two for spectral features)
    hop: int = 1024  # samples between window starts
    window_function: str = "hann"  # before the spectrum; time statistics see raw samples
    bands: tuple[Band, ...] = ()  # [low, high) Hz of each band energy or share
    envelope_filter: Band = (0.0, 0.0)  # [low, high) Hz demodulated for the envelope
    envelope_bands: tuple[Band, ...] = ()  # [low, high) Hz of the envelope spectrum
    features: tuple[str, ...] = VERSION_DEFAULT  # names of the spec's version (left out: default)
    channels: tuple[str, ...] = ("ch0",)  # input rows, in order
    version: int = field(default=SPEC_VERSION)
    kinematics: Kinematics | None = None  # version 2: shaft speed and defect orders

    @classmethod
    def default(cls, sample_rate: float, channels: tuple[str, ...] = ("ch0",),
                window: int = 2048, hop: int = 1024, kinematics: Kinematics | None = None,
                absolute: bool = False) -> FeatureSpec:
        """The default version 2 spec (docs/features.md).

        Scale-free shape factors, 8 band shares to Nyquist, the centroid and the squared
        envelope spectrum of a band centred on fs/4, at least fs/16 wide (wider when the
        defect lines need it), read in 8 shares; with kinematics also the defect lines.
        With a speed channel (a machine of varying speed) the order-domain features only:
        order shares and defect lines.  ``absolute`` adds the gain-sensitive family.
        """
        fs = float(sample_rate)
        return cls(sample_rate=fs, window=window, hop=hop, channels=tuple(channels),
                   kinematics=kinematics, **layout_v2(fs, window, kinematics, absolute))

    @classmethod
    def default_v1(cls, sample_rate: float, channels: tuple[str, ...] = ("ch0",),
                   window: int = 2048, hop: int = 1024) -> FeatureSpec:
        """The version 1 default: all 13 time statistics, 8 bands, 12 envelope bands."""
        fs = float(sample_rate)
        return cls(sample_rate=fs, window=window, hop=hop, channels=tuple(channels),
                   version=1, **layout_v1(fs, window))

    def __post_init__(self) -> None:
        # Normalise lists from JSON into tuples so equality and hashing work.
        object.__setattr__(self, "bands", tuple(tuple(map(float, b)) for b in self.bands))
        object.__setattr__(self, "envelope_bands",
                           tuple(tuple(map(float, b)) for b in self.envelope_bands))
        object.__setattr__(self, "envelope_filter", tuple(map(float, self.envelope_filter)))
        if self.features is VERSION_DEFAULT or self.features is None:  # None: an older JSON
            object.__setattr__(self, "features",
                               ALL_FEATURES if self.version == 1 else SCALE_FREE_DEFAULT)
        object.__setattr__(self, "features", tuple(self.features))
        object.__setattr__(self, "channels", tuple(self.channels))
        object.__setattr__(self, "sample_rate", float(self.sample_rate))
        if isinstance(self.kinematics, dict):
            object.__setattr__(self, "kinematics", Kinematics.from_dict(self.kinematics))
        self._validate()

    # -- validation ------------------------------------------------------------------
    def _validate(self) -> None:
        check_fields(version=self.version, sample_rate=self.sample_rate, window=self.window,
                     hop=self.hop, channels=self.channels, features=self.features,
                     window_function=self.window_function)
        if self.needs_spectrum and (self.window < 16 or self.window & (self.window - 1)):
            # The FFT kernels and ONNX DFT on controllers are fast only there.
            raise UsageError(f"spectral features need a window that is a power of two "
                             f">= 16 samples, got {self.window}")
        if self.version == 1:
            if self.kinematics is not None:
                raise UsageError("feature spec version 1 has no kinematics")
        else:
            self._validate_kinematics()
        if self.needs_spectrum:
            self._validate_bins()

    def _validate_kinematics(self) -> None:
        kin = self.kinematics
        wanted = [f for f in self.features if f in NEEDS_SPEED]
        if kin is None:
            if wanted:
                raise UsageError(f"{wanted[0]} needs the machine's kinematics (shaft speed)")
            return
        if kin.speed_channel and kin.speed_channel not in self.channels:
            raise UsageError(f"speed channel {kin.speed_channel!r} is not one of the channels "
                             f"{list(self.channels)}")
        if not self.analysed_channels():
            raise UsageError("every channel is the speed channel: nothing to analyse")
        if "defect_lines" in self.features and set(kin.channels()) != set(
                self.analysed_channels()):
            raise UsageError(f"defect lines need orders for exactly the analysed channels "
                             f"{list(self.analysed_channels())}, got {list(kin.channels())}")

    def _validate_bins(self) -> None:
        v1 = self.version == 1
        banded = ("band_energy",) if v1 else ("band_share", "band_energy")
        if any(f in self.features for f in banded) and not self.bands:
            raise UsageError(f"{'band_energy' if v1 else 'band_share'} is selected but no "
                             "bands are given")
        for band in self.bands:
            self._bins(band, "band")
        if not self.needs_envelope:
            return
        env_banded = [f for f in self.features if f in (
            "envelope_band_energy", "envelope_share", "envelope_energy")]
        if env_banded and not self.envelope_bands:
            raise UsageError(f"{env_banded[0]} is selected but no envelope bands")
        lo, hi = self._bins(self.envelope_filter, "envelope filter")
        if lo < 1 or hi > self.window // 2:
            raise UsageError(f"envelope filter {self.envelope_filter} Hz must lie strictly "
                             f"between 0 and {self.sample_rate / 2:g} Hz (Nyquist)")
        if v1:
            for band in self.envelope_bands:
                self._bins(band, "envelope band")
            return
        top = self.baseband_length() // 2
        for band in self.envelope_bands:
            if self._bins(band, "envelope band")[1] > top + 1:
                raise UsageError(f"envelope band {band[0]:g}..{band[1]:g} Hz lies above the "
                                 f"envelope spectrum's {top * self.sample_rate / self.window:g} "
                                 "Hz (half the envelope filter's width rounded up to a power "
                                 "of two bins); widen the envelope filter")
        if "defect_lines" in self.features and top_bin(self.known_kinematics, self.df) > top:
            raise UsageError(f"the defect lines at {self.known_kinematics.rpm:g} rpm reach "
                             f"{top_bin(self.known_kinematics, self.df) * self.df:g} Hz, above the "
                             f"envelope spectrum's {top * self.df:g} Hz; widen the envelope "
                             "filter")

    def _bins(self, band: tuple[float, ...], what: str) -> tuple[int, int]:
        """Bins k with lo <= k * fs / window < hi, as a range [lo, hi) of rfft bins."""
        return bin_range(band, what, self.window, self.sample_rate)

    # -- derived -------------------------------------------------------------------
    @property
    def known_kinematics(self) -> Kinematics:
        """The kinematics, for code that runs only for features validation let through with
        them (order shares, defect lines)."""
        if self.kinematics is None:
            raise UsageError("this feature spec has no kinematics (shaft speed and orders)")
        return self.kinematics

    @property
    def df(self) -> float:
        """Bin spacing of the window's spectrum (and of the envelope spectrum), Hz."""
        return self.sample_rate / self.window

    @property
    def needs_spectrum(self) -> bool:
        """True if any spectral or envelope feature is selected."""
        time = TIME_FEATURES if self.version == 1 else TIME_FEATURES_V2
        return any(f not in time for f in self.features)

    @property
    def needs_envelope(self) -> bool:
        """True if any envelope feature is selected."""
        group = ENVELOPE_FEATURES if self.version == 1 else ENVELOPE_FEATURES_V2
        return any(f in group for f in self.features)

    def analysed_channels(self) -> tuple[str, ...]:
        """Channels features are computed on (all but the speed channel)."""
        speed = self.kinematics.speed_channel if self.kinematics else ""
        return tuple(c for c in self.channels if c != speed)

    def gain_sensitive(self) -> tuple[str, ...]:
        """Selected feature groups that scale with the sensor's gain."""
        absolute = GAIN_SENSITIVE | {"envelope_band_energy"} if self.version == 1 \
            else GAIN_SENSITIVE
        return tuple(f for f in self.features if f in absolute)

    def band_bins(self) -> np.ndarray:
        """(n_bands, 2) intp bin ranges of ``bands`` (empty if no band feature)."""
        wanted = ("band_energy", "band_share")
        rows = [self._bins(b, "band") for b in self.bands] if any(
            f in self.features for f in wanted) else []
        return np.array(rows, dtype=np.intp).reshape(-1, 2)

    def envelope_bins(self) -> tuple[tuple[int, int], np.ndarray]:
        """Demodulation bin range and (n, 2) envelope band ranges (empty if off)."""
        if not self.needs_envelope:
            return (0, 0), np.zeros((0, 2), dtype=np.intp)
        rows = [self._bins(b, "envelope band") for b in self.envelope_bands]
        if self.version == 2 and not any(f in self.features for f in (
                "envelope_share", "envelope_energy")):
            rows = []
        return (self._bins(self.envelope_filter, "envelope filter"),
                np.array(rows, dtype=np.intp).reshape(-1, 2))

    def baseband_length(self) -> int:
        """Version 2: points M of the baseband envelope, a power of two >= 2 x band width."""
        (lo, hi), _ = self.envelope_bins()
        return max(16, pow2_at_least(2 * (hi - lo))) if hi > lo else 0

    def window_values(self, length: int | None = None) -> np.ndarray:
        """The window function, periodic (DFT-even) form, float64 of ``length`` points."""
        return taper(self.window_function, length or self.window)

    def channel_feature_names(self) -> tuple[str, ...]:
        """Feature names of one analysed channel, in output order."""
        if self.version == 1:
            names: list[str] = [f for f in TIME_FEATURES if f in self.features]
            names += [f for f in ("spectral_centroid", "dominant_frequency")
                      if f in self.features]
            if "band_energy" in self.features:
                names += [f"band_{lo:g}_{hi:g}Hz" for lo, hi in self.bands]
            if self.needs_envelope:
                names += [f"env_band_{lo:g}_{hi:g}Hz" for lo, hi in self.envelope_bands]
            return tuple(names)
        names = []
        for f in FEATURES_V2:
            if f not in self.features:
                continue
            if f == "band_share":
                names += [f"band_share_{lo:g}_{hi:g}Hz" for lo, hi in self.bands]
            elif f == "band_energy":
                names += [f"band_{lo:g}_{hi:g}Hz" for lo, hi in self.bands]
            elif f == "order_share":
                names += list(self.known_kinematics.order_names())
            elif f == "envelope_share":
                names += [f"env_share_{lo:g}_{hi:g}Hz" for lo, hi in self.envelope_bands]
            elif f == "envelope_energy":
                names += [f"env_energy_{lo:g}_{hi:g}Hz" for lo, hi in self.envelope_bands]
            elif f == "defect_lines":
                names += list(self.known_kinematics.line_names())
            else:
                names.append(f)
        return tuple(names)

    def feature_names(self) -> tuple[str, ...]:
        """All output names, channel-major: ``<channel>.<feature>``."""
        per = self.channel_feature_names()
        return tuple(f"{ch}.{name}" for ch in self.analysed_channels() for name in per)

    @property
    def n_features(self) -> int:
        """Number of output columns."""
        return len(self.analysed_channels()) * len(self.channel_feature_names())

    # -- serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (tuples become lists); version 1 keeps its exact form."""
        d = asdict(self)
        d["bands"] = [list(b) for b in self.bands]
        d["envelope_bands"] = [list(b) for b in self.envelope_bands]
        d["envelope_filter"] = list(self.envelope_filter)
        d["features"] = list(self.features)
        d["channels"] = list(self.channels)
        if self.version == 1:
            return {k: d[k] for k in _V1_FIELDS}
        d["kinematics"] = self.kinematics.to_dict() if self.kinematics else None
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureSpec:
        """Inverse of to_dict; unknown keys or versions are refused."""
        known = set(cls.__dataclass_fields__)
        extra = sorted(set(data) - known)
        if extra:
            raise UsageError(f"feature spec has unknown fields {extra}")
        data = dict(data)
        data.setdefault("version", 1)  # a spec without a version predates version 2
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"feature spec is malformed: {exc}") from None

    def spec_hash(self) -> str:
        """SHA-256 of the canonical JSON of to_dict()."""
        return sha256_hex(canonical_bytes(self.to_dict()))
