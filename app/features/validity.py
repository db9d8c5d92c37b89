"""Input validity of raw windows: what a broken or mis-scaled sensor looks like, in NumPy."""

# The same checks run in the exported ONNX graph (app/features/validity_graph.py), so a
# controller reports "invalid input: REASON" instead of a machine state.  Per channel:
#   non-finite  a NaN or infinite sample;
#   flat        max == min, or the standard deviation at or below the channel's floor
#               (a dead, unplugged or frozen sensor);
#   clipped     more than clip_share of the samples within clip_tolerance x (max - min)
#               of the window's maximum, or of its minimum (a saturated amplifier or ADC;
#               a flat window is reported as flat only);
#   level low / level high
#               the window's RMS outside [rms_min / k, rms_max x k] of the training
#               windows (k = level_factor): a g versus m/s^2 or mV versus V mistake, a
#               wrong sensor; a sensor of half or twice the gain stays inside for k >= 2;
#   speed       (the speed channel) the window's mean speed outside
#               [speed_min / k, speed_max x k] of training, or not above 0.
# Checks after the non-finite one read the samples with non-finite values set to 0.
# A window is valid when no bit of its reason is set.

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from app.core.errors import UsageError

NON_FINITE, FLAT, CLIPPED, LEVEL_LOW, LEVEL_HIGH, SPEED = 1, 2, 4, 8, 16, 32
REASONS: dict[int, str] = {
    NON_FINITE: "non-finite samples (NaN or infinite)",
    FLAT: "flat line (dead or disconnected sensor)",
    CLIPPED: "clipped (saturated sensor or converter)",
    LEVEL_LOW: "level far below the training envelope",
    LEVEL_HIGH: "level far above the training envelope",
    SPEED: "shaft speed outside the training envelope",
}
VIBRATION, SPEED_KIND = "vibration", "speed"


def describe(reason: int) -> str:
    """The reasons of a bit mask in words, '' for 0."""
    return "; ".join(text for bit, text in REASONS.items() if int(reason) & bit)


@dataclass(frozen=True)
class ValidityConfig:
    """How strict the checks are (a recipe field); see the module comment."""

    level_factor: float = 3.0
    flat_ratio: float = 0.01  # flat floor = flat_ratio x the quietest training RMS
    clip_share: float = 0.01
    clip_tolerance: float = 0.001

    def __post_init__(self) -> None:
        for name, lo, hi in (("level_factor", 1.0, 1e6), ("flat_ratio", 0.0, 1.0),
                             ("clip_share", 0.0, 1.0), ("clip_tolerance", 0.0, 0.5)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    math.isfinite(value) and lo <= value <= hi):
                raise UsageError(f"validity {name} must be a number in [{lo:g}, {hi:g}], "
                                 f"got {value!r}")
        object.__setattr__(self, "level_factor", float(self.level_factor))

    def to_dict(self) -> dict[str, float]:
        """JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class ValidityLimits:
    """Per-channel thresholds a model checks its input against (stored in its schema)."""

    channels: tuple[str, ...]
    kinds: tuple[str, ...]  # "vibration" or "speed" per channel
    level_min: tuple[float, ...]  # training envelope: RMS (vibration) or mean (speed)
    level_max: tuple[float, ...]
    flat_floor: tuple[float, ...]  # standard deviation at or below this is flat
    config: ValidityConfig = ValidityConfig()

    def __post_init__(self) -> None:
        for name in ("channels", "kinds", "level_min", "level_max", "flat_floor"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if isinstance(self.config, dict):
            object.__setattr__(self, "config", ValidityConfig(**self.config))
        n = len(self.channels)
        if not all(len(getattr(self, f)) == n for f in ("kinds", "level_min", "level_max",
                                                         "flat_floor")):
            raise UsageError("validity limits need one value per channel")

    @property
    def envelope(self) -> bool:
        """True once the training envelope is known (else only structural checks)."""
        return any(hi > 0 for hi in self.level_max)

    def low(self) -> np.ndarray:
        """Lower level limits (0 where there is none)."""
        return np.array(self.level_min) / self.config.level_factor

    def high(self) -> np.ndarray:
        """Upper level limits (inf where there is none)."""
        hi = np.array(self.level_max) * self.config.level_factor
        return np.where(hi > 0, hi, np.inf)

    @classmethod
    def structural(cls, channels: tuple[str, ...], speed_channel: str = "",
                   config: ValidityConfig | None = None) -> ValidityLimits:
        """Checks that need no training data (non-finite, constant, clipped)."""
        n = len(channels)
        return cls(channels, tuple(SPEED_KIND if c == speed_channel else VIBRATION
                                   for c in channels), (0.0,) * n, (0.0,) * n, (0.0,) * n,
                   config or ValidityConfig())

    @classmethod
    def from_training(cls, channels: tuple[str, ...], levels: np.ndarray, spreads: np.ndarray,
                      speed_channel: str = "", config: ValidityConfig | None = None
                      ) -> ValidityLimits:
        """Limits from the training windows' levels and standard deviations (n, channels),
        as check_windows measures them: the envelope is their range, the flat floor
        flat_ratio x the smallest standard deviation."""
        cfg = config or ValidityConfig()
        lv = np.asarray(levels, dtype=np.float64)
        sd = np.asarray(spreads, dtype=np.float64)
        if lv.ndim != 2 or lv.shape[1] != len(channels) or len(lv) == 0 or sd.shape != lv.shape:
            raise UsageError(f"training levels of shape {lv.shape} do not match "
                             f"{len(channels)} channels")
        lo, hi = lv.min(axis=0), lv.max(axis=0)
        kinds = tuple(SPEED_KIND if c == speed_channel else VIBRATION for c in channels)
        floor = tuple(0.0 if k == SPEED_KIND else cfg.flat_ratio * float(v)
                      for k, v in zip(kinds, sd.min(axis=0), strict=True))
        return cls(channels, kinds, tuple(map(float, lo)), tuple(map(float, hi)), floor, cfg)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the reason bits are spelled out for whoever reads it."""
        d = asdict(self)
        for k in ("channels", "kinds", "level_min", "level_max", "flat_floor"):
            d[k] = list(d[k])
        d["reasons"] = {str(bit): text for bit, text in REASONS.items()}
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ValidityLimits:
        """Inverse of to_dict."""
        fields = {k: v for k, v in data.items() if k != "reasons"}
        try:
            return cls(**fields)
        except TypeError as exc:
            raise UsageError(f"validity limits are malformed: {exc}") from None


@dataclass(frozen=True)
class Validity:
    """Per window: valid or not, the reason bits, and each channel's level."""

    ok: np.ndarray  # bool (n,)
    reason: np.ndarray  # int64 (n,), OR of the channels' bits
    level: np.ndarray  # float64 (n, channels): RMS, or the mean of the speed channel
    channel_reason: np.ndarray  # int64 (n, channels)
    spread: np.ndarray  # float64 (n, channels): standard deviation


def check_windows(windows: np.ndarray, limits: ValidityLimits) -> Validity:
    """Validity of raw windows (n, channels, window), as the ONNX graph computes it."""
    w = np.asarray(windows)
    if w.ndim != 3 or w.shape[1] != len(limits.channels):
        raise UsageError(f"expected windows (n, {len(limits.channels)}, samples), got {w.shape}")
    n, n_ch, length = w.shape
    cfg = limits.config
    reason = np.zeros((n, n_ch), dtype=np.int64)
    level = np.zeros((n, n_ch))
    spread = np.zeros((n, n_ch))
    is_speed = np.array([k == SPEED_KIND for k in limits.kinds])
    low, high = limits.low(), limits.high()
    floor = np.array(limits.flat_floor)
    step = max(1, (1 << 20) // max(1, n_ch * length))  # bounded temporaries
    for a in range(0, n, step):
        x = np.asarray(w[a:a + step], dtype=np.float64)
        bad = ~np.isfinite(x)
        x = np.where(bad, 0.0, x)
        r = np.where(bad.any(axis=2), NON_FINITE, 0)
        mean = x.mean(axis=2)
        rms = np.sqrt((x * x).mean(axis=2))
        std = np.sqrt(np.square(x - mean[..., None]).mean(axis=2))
        mx, mn = x.max(axis=2), x.min(axis=2)
        flat = (mx == mn) | (std <= floor)
        tol = cfg.clip_tolerance * (mx - mn)
        at_hi = (x >= (mx - tol)[..., None]).mean(axis=2)
        at_lo = (x <= (mn + tol)[..., None]).mean(axis=2)
        clipped = (np.maximum(at_hi, at_lo) > cfg.clip_share) & ~flat
        lv = np.where(is_speed, mean, rms)
        r |= np.where(~is_speed & flat, FLAT, 0) | np.where(~is_speed & clipped, CLIPPED, 0)
        if limits.envelope:
            out_low, out_high = lv < low, lv > high
            r |= np.where(~is_speed & out_low, LEVEL_LOW, 0)
            r |= np.where(~is_speed & out_high, LEVEL_HIGH, 0)
            r |= np.where(is_speed & (out_low | out_high | ~(lv > 0)), SPEED, 0)
        reason[a:a + step], level[a:a + step], spread[a:a + step] = r, lv, std
    total = np.bitwise_or.reduce(reason, axis=1) if n_ch else np.zeros(n, dtype=np.int64)
    return Validity(ok=total == 0, reason=total, level=level, channel_reason=reason,
                    spread=spread)


def sanitized(windows: np.ndarray, validity: Validity) -> np.ndarray:
    """float64 copy: non-finite samples 0, every invalid window all zeros (as in the graph)."""
    x = np.asarray(windows, dtype=np.float64)
    x = np.where(np.isfinite(x), x, 0.0)
    x[~validity.ok] = 0.0
    return x


def near_threshold(windows: np.ndarray, limits: ValidityLimits, rtol: float = 1e-5
                   ) -> np.ndarray:
    """Windows (n,) whose verdict float32 rounding could flip: a statistic within rtol of
    its threshold, a range float32 cannot resolve, samples beyond float32's range, or a
    clip verdict that changes when the tolerance band moves by float32's resolution.

    The parity gate excuses an ONNX/Python disagreement on these windows only.
    """
    w = np.asarray(windows, dtype=np.float64)
    n = len(w)
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    cfg = limits.config
    low, high = limits.low(), limits.high()
    high = np.where(np.isfinite(high), high, 0.0)
    floor = np.array(limits.flat_floor)
    is_speed = np.array([k == SPEED_KIND for k in limits.kinds])
    step = max(1, (1 << 20) // w[0].size)
    for a in range(0, n, step):
        x = np.where(np.isfinite(w[a:a + step]), w[a:a + step], 0.0)
        big = np.abs(x).max(axis=2)
        eps = 1e-6 * big  # a few float32 steps at the window's largest value
        mx, mn = x.max(axis=2), x.min(axis=2)
        std = np.sqrt(np.square(x - x.mean(axis=2, keepdims=True)).mean(axis=2))
        lv = np.where(is_speed, x.mean(axis=2), np.sqrt((x * x).mean(axis=2)))
        near = (big > 1e37) | (mx - mn <= eps) | (np.abs(std - floor) <= rtol * floor)
        near |= (np.abs(lv - low) <= rtol * low) | (np.abs(lv - high) <= rtol * high)
        near |= is_speed & (np.abs(lv) <= eps)
        tol = cfg.clip_tolerance * (mx - mn)
        verdicts = []
        for t in (tol - eps, tol + eps):
            share = np.maximum((x >= (mx - t)[..., None]).mean(axis=2),
                               (x <= (mn + t)[..., None]).mean(axis=2))
            verdicts.append(share > cfg.clip_share)
        near |= verdicts[0] != verdicts[1]
        out[a:a + step] = near.any(axis=1)
    return out
