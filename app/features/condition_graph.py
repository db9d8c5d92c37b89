"""Version 2 features as ONNX nodes: shape factors, shares, squared envelope spectrum, lines."""

# The same definitions as the native kernel (native/condition_body.pxi).  Bands read with
# fractional bin weights (app/features/kinematics.py): constant matrices for a nominal
# speed, weights computed per window from the speed channel otherwise.

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from app.features.catalogue import FEATURES_V2
from app.features.graph_ops import Graph, band_matrix, power, time_features
from app.features.kinematics import (
    BACKGROUND_FACTOR,
    MIN_HALF_WIDTH_BINS,
    bin_weights,
    line_intervals,
    order_intervals,
)
from app.features.spec import FeatureSpec

_KEEP_WHEN_CONSTANT = ("mean", "rms", "min", "max", "crest_factor", "shape_factor",
                       "impulse_factor")


def _axes(g: Graph, *axes: int) -> str:
    return g.const(list(axes), np.int64, "axes")


def _speed_bins(g: Graph, x_all: str, spec: FeatureSpec) -> str | None:
    """Shaft speed in bins [N, 1, 1, 1] from the speed channel, or None (nominal speed)."""
    kin = spec.kinematics
    if kin is None or not kin.speed_channel:
        return None
    row = g.op("Gather", x_all, g.const([spec.channels.index(kin.speed_channel)], np.int64),
               axis=1)
    mean = g.reduce("ReduceMean", row)  # [N, 1, 1] rpm
    hz_per_bin = g.op("Mul", mean, g.const(1.0 / (60.0 * spec.df)))
    return g.op("Unsqueeze", hz_per_bin, _axes(g, 3))


def _weights(g: Graph, a: str, b: str, n_bins: int) -> str:
    """Bin weights clip(min(b, k + 1/2) - max(a, k - 1/2), 0, 1), bin 0 excluded."""
    k = np.arange(n_bins, dtype=np.float64)
    w = g.op("Sub", g.op("Min", b, g.const(k + 0.5)), g.op("Max", a, g.const(k - 0.5)))
    w = g.op("Clip", w, g.const(0.0), g.const(1.0))
    dc = np.ones(n_bins)
    dc[0] = 0.0
    return g.op("Mul", w, g.const(dc))


def _weighted_sum(g: Graph, p: str, w: str) -> str:
    """p [N, C, K] against weights [..., J, K] -> [N, C, J]."""
    return g.op("ReduceSum", g.op("Mul", g.op("Unsqueeze", p, _axes(g, 2)), w), _axes(g, 3),
                keepdims=0)


def _order_bands(g: Graph, p: str, spec: FeatureSpec, speed: str | None, n_bins: int) -> str:
    """Power in order bands 1..n [N, C, n] (a share is this over the total)."""
    n = spec.known_kinematics.order_bands
    if speed is None:
        iv = order_intervals(np.array(spec.known_kinematics.shaft_hz / spec.df), n)
        return g.op("MatMul", p, g.const(bin_weights(iv, n_bins).T))
    k = np.arange(1, n + 1, dtype=np.float64).reshape(-1, 1)
    a = g.op("Mul", speed, g.const(k - 0.5))  # [N, 1, n, 1]
    b = g.op("Mul", speed, g.const(k + 0.5))
    return _weighted_sum(g, p, _weights(g, a, b, n_bins))


def _lines(g: Graph, pe: str, spec: FeatureSpec, speed: str | None, n_bins: int) -> str:
    """Defect-line prominence [N, C, lines]: line density over background density."""
    kin = spec.known_kinematics
    mult = np.stack([kin.line_multipliers(ch) for ch in spec.analysed_channels()])  # [C, J]
    if speed is None:
        iv = line_intervals(mult * kin.shaft_hz / spec.df, kin.tolerance)  # [C, J, 3, 2]
        w = bin_weights(iv, n_bins)  # [C, J, 3, K]
        width = w.sum(axis=-1)
        w_in = np.where(width[..., 0:1] > 0, w[..., 0, :] / np.maximum(width[..., 0:1],
                                                                          1e-300), 0.0)
        bg_width = width[..., 1:2] + width[..., 2:3]
        w_bg = np.where(bg_width > 0, (w[..., 1, :] + w[..., 2, :]) / np.maximum(
            bg_width, 1e-300), 0.0)
        pe4 = g.op("Unsqueeze", pe, _axes(g, 2))  # [N, C, 1, K]
        line = g.op("MatMul", pe4, g.const(np.swapaxes(w_in, 1, 2)))  # [N, C, 1, J]
        bg = g.op("MatMul", pe4, g.const(np.swapaxes(w_bg, 1, 2)))
        sq = _axes(g, 2)
        return g.ratio(g.op("Squeeze", line, sq), g.op("Squeeze", bg, sq))
    centre = g.op("Mul", speed, g.const(mult[None, :, :, None]))  # [N, C, J, 1] bins
    h = g.op("Max", g.op("Mul", centre, g.const(kin.tolerance)), g.const(MIN_HALF_WIDTH_BINS))
    gap = g.op("Mul", h, g.const(BACKGROUND_FACTOR))
    sums, widths = [], []
    for a, b in ((g.op("Sub", centre, h), g.op("Add", centre, h)),
                 (g.op("Sub", centre, gap), g.op("Sub", centre, h)),
                 (g.op("Add", centre, h), g.op("Add", centre, gap))):
        wts = _weights(g, a, b, n_bins)  # [N, C, J, K]
        sums.append(_weighted_sum(g, pe, wts))
        widths.append(g.op("ReduceSum", wts, _axes(g, 3), keepdims=0))
    line = g.ratio(sums[0], widths[0])
    bg = g.ratio(g.op("Add", sums[1], sums[2]), g.op("Add", widths[1], widths[2]))
    return g.ratio(line, bg)


def _envelope(g: Graph, spectrum: str, spec: FeatureSpec, parts: dict[str, str],
              speed: str | None) -> None:
    """Squared envelope spectrum of the band, by the baseband method; its features."""
    (lo, hi), env_ranges = spec.envelope_bins()
    m, length = spec.baseband_length(), spec.window
    n_e = m // 2 + 1
    band = g.op("Slice", spectrum, g.const([lo], np.int64), g.const([hi], np.int64),
                _axes(g, 2))
    pads = g.const([0, 0, 0, 0, 0, 0, m - (hi - lo), 0], np.int64, "pads")
    # ONNX's inverse DFT divides by M; (2 / L) M makes it the analytic signal.
    y = g.op("DFT", g.op("Mul", g.op("Pad", band, pads), g.const(2.0 * m / length)),
             inverse=1, onesided=0)
    se = g.op("ReduceSum", g.op("Mul", y, y), _axes(g, 3), keepdims=0)  # [N, C, M]
    w2m = np.square(spec.window_values()[np.arange(m) * (length // m)])
    c = g.op("Mul", g.reduce("ReduceSum", se), g.const(1.0 / w2m.sum()))
    e = g.op("Sub", se, g.op("Mul", c, g.const(w2m)))
    env = g.op("DFT", g.op("Unsqueeze", e, _axes(g, 3)), onesided=1)
    pe = power(g, env, 1.0 / (m * m), n_e)
    total = g.reduce("ReduceSum", g.op("Slice", pe, g.const([1], np.int64),
                                       g.const([n_e], np.int64), _axes(g, 2)))
    if len(env_ranges):
        energy = g.op("MatMul", pe, g.const(band_matrix(env_ranges, n_e)))
        parts["envelope_energy"] = energy
        parts["envelope_share"] = g.ratio(energy, total)
    if "defect_lines" in spec.features:
        parts["defect_lines"] = _lines(g, pe, spec, speed, n_e)


def _spectral(g: Graph, x: str, x_all: str, spec: FeatureSpec, parts: dict[str, str]) -> None:
    length, n_bins = spec.window, spec.window // 2 + 1
    win = spec.window_values()
    d = g.op("Sub", x, g.reduce("ReduceMean", x))
    spectrum = g.op("DFT", g.op("Unsqueeze", g.op("Mul", d, g.const(win)), _axes(g, 3)),
                    onesided=1)
    p = power(g, spectrum, 1.0 / (length * float(np.square(win).sum())), n_bins)
    total = g.reduce("ReduceSum", p)
    kdf = (np.arange(n_bins) * spec.df).reshape(-1, 1)
    parts["spectral_centroid"] = g.ratio(g.op("MatMul", p, g.const(kdf)), total)
    tail = g.op("Slice", p, g.const([1], np.int64), g.const([n_bins], np.int64), _axes(g, 2))
    peak = g.op("Cast", g.op("ArgMax", tail, axis=2, keepdims=1), to=TensorProto.FLOAT)
    dominant = g.op("Mul", g.op("Add", peak, g.const(1.0)), g.const(spec.df))
    parts["dominant_frequency"] = g.op("Where", g.op("Greater", total, g.const(0.0)), dominant,
                                       g.const(0.0))
    if len(spec.band_bins()):
        energy = g.op("MatMul", p, g.const(band_matrix(spec.band_bins(), n_bins)))
        parts["band_energy"] = energy
        parts["band_share"] = g.ratio(energy, total)
    speed = _speed_bins(g, x_all, spec)
    if "order_share" in spec.features:
        parts["order_share"] = g.ratio(_order_bands(g, p, spec, speed, n_bins), total)
    if spec.needs_envelope:
        _envelope(g, spectrum, spec, parts, speed)


def condition_features(g: Graph, x_all: str, spec: FeatureSpec) -> str:
    """Version 2 features of windows x_all [N, channels, L] -> [N, F] (channel-major)."""
    rows = [spec.channels.index(c) for c in spec.analysed_channels()]
    x = x_all if rows == list(range(len(spec.channels))) else g.op(
        "Gather", x_all, g.const(rows, np.int64), axis=1)
    parts: dict[str, str] = {}
    changes = any(f in spec.features for f in ("zero_crossing_rate", "mean_absolute_change"))
    constant = time_features(g, x, spec, parts, changes=changes)
    parts["excess_kurtosis"] = parts["kurtosis"]
    if spec.needs_spectrum:
        _spectral(g, x, x_all, spec, parts)
    per = g.op("Concat", *[parts[f] for f in FEATURES_V2 if f in spec.features], axis=2)
    # A constant window has no spread and no spectrum: every ratio and moment 0 but the
    # levels and the factors (as in the kernel).
    names = spec.channel_feature_names()
    keep = np.array([n in _KEEP_WHEN_CONSTANT for n in names])
    per = g.op("Where", g.op("And", constant, g.const(~keep, np.bool_)), g.const(0.0), per)
    return g.op("Reshape", per, g.const([-1, spec.n_features], np.int64, "shape"))
