"""Version 2 features from the compiled ``_condition`` kernel: raw columns, then the features."""

# Two builds of one kernel: ``_condition`` (SSE2, runs on every x86-64 and elsewhere as
# portable C) and ``_condition_avx2``, loaded only when the CPU and the OS support AVX2.
# Both give the same bits (no FMA).  PLANTML_SIMD=sse2 forces the first.

from __future__ import annotations

import os
from dataclasses import dataclass
from types import ModuleType

import numpy as np

# No pure-Python fallback, like timestats: a broken build must fail at import.
from app.features import _condition as _baseline
from app.features.catalogue import FEATURES_V2, TIME_FEATURES_V2
from app.features.spec import FeatureSpec
from app.features.timestats import default_threads

SPECTRUM, ENVELOPE, CHANGES = 1, 2, 4
N_TIME = len(TIME_FEATURES_V2)


def _load() -> ModuleType:
    choice = os.environ.get("PLANTML_SIMD", "").strip().lower()
    if choice not in ("", "auto", "avx2", "sse2"):
        raise ValueError(f"PLANTML_SIMD must be auto, avx2 or sse2, got {choice!r}")
    if choice != "sse2" and _baseline.cpu_has_avx2():
        from app.features import _condition_avx2

        return _condition_avx2
    return _baseline


KERNEL = _load()


@dataclass(frozen=True)
class RawLayout:
    """Where each group sits in the kernel's raw columns (native/condition_body.pxi)."""

    flags: int
    n_bands: int
    n_orders: int
    n_env: int
    n_lines: int

    @property
    def col_spec(self) -> int:
        return N_TIME

    @property
    def col_env(self) -> int:
        return N_TIME + (3 + self.n_bands + self.n_orders if self.flags & SPECTRUM else 0)

    @property
    def n_raw(self) -> int:
        return self.col_env + (1 + self.n_env + 2 * self.n_lines if self.flags & ENVELOPE
                               else 0)


def layout(spec: FeatureSpec) -> RawLayout:
    """The raw layout the kernel and the reference produce for ``spec``."""
    flags = (SPECTRUM if spec.needs_spectrum else 0) | (ENVELOPE if spec.needs_envelope else 0)
    if any(f in spec.features for f in ("zero_crossing_rate", "mean_absolute_change")):
        flags |= CHANGES
    spectral = bool(flags & SPECTRUM)
    orders = spectral and "order_share" in spec.features
    lines = bool(flags & ENVELOPE) and "defect_lines" in spec.features
    return RawLayout(
        flags=flags, n_bands=len(spec.band_bins()) if spectral else 0,
        n_orders=spec.known_kinematics.order_bands if orders else 0,
        n_env=len(spec.envelope_bins()[1]) if flags & ENVELOPE else 0,
        n_lines=len(spec.known_kinematics.line_names()) if lines else 0)


def kernel_args(spec: FeatureSpec) -> dict:
    """Keyword arguments shared by the kernel and the NumPy reference (but x and speed)."""
    lay = layout(spec)
    (dlo, dhi), env = spec.envelope_bins()
    return {
        "win": np.ascontiguousarray(spec.window_values()),
        "sample_rate": spec.sample_rate,
        "flags": lay.flags,
        "bands": np.ascontiguousarray(spec.band_bins()),
        "n_orders": lay.n_orders,
        "demod_lo": dlo,
        "demod_hi": dhi,
        "baseband": spec.baseband_length() if lay.flags & ENVELOPE else 16,
        "env_bands": np.ascontiguousarray(env),
        "tolerance": spec.kinematics.tolerance if spec.kinematics else 0.03,
    }


def line_table(spec: FeatureSpec) -> np.ndarray:
    """(analysed channels, lines) orders of every defect line, float64."""
    chans = spec.analysed_channels()
    if layout(spec).n_lines == 0:
        return np.zeros((len(chans), 0))
    return np.stack([spec.known_kinematics.line_multipliers(ch) for ch in chans])


def raw_columns(x: np.ndarray, spec: FeatureSpec, speed_hz: np.ndarray,
                line_mult: np.ndarray, threads: int | None = None) -> np.ndarray:
    """(rows, windows, n_raw) raw columns of the analysed rows x (C-contiguous float64).

    ``speed_hz`` holds each (row, window)'s shaft speed, row-major; ``line_mult`` each
    row's line orders.
    """
    n_threads = default_threads() if threads is None else int(threads)
    if n_threads < 1:
        raise ValueError(f"threads must be >= 1, got {n_threads}")
    arr = np.ascontiguousarray(x, dtype=np.float64)
    lines = np.ascontiguousarray(line_mult, dtype=np.float64).reshape(len(arr), -1)
    speed = np.ascontiguousarray(speed_hz, dtype=np.float64).reshape(-1)
    return KERNEL.condition(arr, spec.window, spec.hop, n_threads=n_threads,
                            speed_hz=speed, line_mult=lines, **kernel_args(spec))


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    ok = den > 0.0
    return np.where(ok, num / np.where(ok, den, 1.0), 0.0)


def _plan(spec: FeatureSpec) -> tuple[np.ndarray, np.ndarray]:
    """For each output feature: its raw column, and the raw column it is divided by (-1:
    none).  Shares divide by a total, line prominences by their background."""
    lay = layout(spec)
    cs, ce = lay.col_spec, lay.col_env
    bands = list(range(cs + 3, cs + 3 + lay.n_bands))
    orders = list(range(cs + 3 + lay.n_bands, cs + 3 + lay.n_bands + lay.n_orders))
    envs = list(range(ce + 1, ce + 1 + lay.n_env))
    first_line = ce + 1 + lay.n_env
    num: list[int] = []
    den: list[int] = []
    for f in FEATURES_V2:
        if f not in spec.features:
            continue
        if f in TIME_FEATURES_V2:
            cols = [(TIME_FEATURES_V2.index(f), -1)]
        elif f in ("spectral_centroid", "dominant_frequency"):
            cols = [(cs + 1 if f == "spectral_centroid" else cs + 2, -1)]
        elif f in ("band_share", "band_energy"):
            cols = [(b, cs if f == "band_share" else -1) for b in bands]
        elif f == "order_share":
            cols = [(o, cs) for o in orders]
        elif f in ("envelope_share", "envelope_energy"):
            cols = [(e, ce if f == "envelope_share" else -1) for e in envs]
        else:  # defect_lines: line density over background density
            cols = [(first_line + 2 * j, first_line + 2 * j + 1) for j in range(lay.n_lines)]
        num += [c for c, _ in cols]
        den += [d for _, d in cols]
    return np.array(num, dtype=np.intp), np.array(den, dtype=np.intp)


def assemble(raw: np.ndarray, spec: FeatureSpec, out: np.ndarray | None = None) -> np.ndarray:
    """The spec's features [..., per channel] from raw columns [..., n_raw]; a ratio whose
    denominator is not above 0 is 0."""
    num, den = _plan(spec)
    ratio = den >= 0
    values = raw[..., num]
    d = raw[..., den[ratio]]
    ok = d > 0.0
    values[..., ratio] = np.where(ok, values[..., ratio] / np.where(ok, d, 1.0), 0.0)
    if out is None:
        return values
    out[...] = values
    return out


def window_speed_hz(x: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Shaft speed in Hz of each window of x (channels, samples) or windows (n, C, L).

    The nominal speed, or the window mean of the speed channel (in rpm) / 60; a
    non-finite speed reads as 0 (such a window is invalid input anyway).
    """
    kin = spec.kinematics
    arr = np.asarray(x)
    if arr.ndim == 3:
        n = len(arr)
    else:
        n = 0 if arr.shape[-1] < spec.window else 1 + (arr.shape[-1] - spec.window) // spec.hop
    if kin is None or not kin.speed_channel:
        return np.full(n, kin.shaft_hz if kin else 0.0)
    row = spec.channels.index(kin.speed_channel)
    if arr.ndim == 3:
        speed = arr[:, row, :].astype(np.float64).mean(axis=1)
    else:
        from numpy.lib.stride_tricks import sliding_window_view

        views = sliding_window_view(arr[row], spec.window)[::spec.hop]
        speed = np.empty(n)
        for lo in range(0, n, 4096):  # bounded temporaries
            speed[lo:lo + 4096] = views[lo:lo + 4096].astype(np.float64).mean(axis=1)
    speed = speed / 60.0
    return np.where(np.isfinite(speed), speed, 0.0)
