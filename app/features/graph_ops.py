"""Building blocks of the ONNX feature graphs: named nodes and constants, shared statistics."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from app.features.spec import FeatureSpec


class Graph:
    """Collects nodes and constants under unique names."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def _name(self, hint: str) -> str:
        self._n += 1
        return f"{self.prefix}{hint}_{self._n}"

    def const(self, value, dtype=np.float32, hint: str = "c") -> str:
        name = self._name(hint)
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, *inputs: str, hint: str = "", **attrs) -> str:
        out = self._name(hint or op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    # Reductions over the sample axis (2 of [batch, channels, samples]), kept as [N, C, 1].
    def reduce(self, op_type: str, x: str, axis: int = 2, keepdims: int = 1) -> str:
        return self.op(op_type, x, self.const([axis], np.int64, "axes"), keepdims=keepdims)

    def ratio(self, num: str, den: str) -> str:
        """num / den where den > 0, else 0 (same rule as the kernels)."""
        zero = self.const(0.0)
        ok = self.op("Greater", den, zero)
        safe = self.op("Where", ok, den, self.const(1.0))
        return self.op("Where", ok, self.op("Div", num, safe), zero)


def time_features(g: Graph, x: str, spec: FeatureSpec, parts: dict[str, str],
                  changes: bool = True) -> str:
    """Adds the 13 time-domain statistics to parts (without zero crossings and absolute
    changes unless ``changes``); returns the 'constant window' mask."""
    length = spec.window
    mean0 = g.reduce("ReduceMean", x)
    d = g.op("Sub", x, mean0)
    mn, mx = g.reduce("ReduceMin", x), g.reduce("ReduceMax", x)
    constant = g.op("Equal", mx, mn)
    # Central moments about the rounded mean, shifted by its rounding error
    # delta (as the kernel does; in float32 it matters for DC-offset sensors).
    delta = g.reduce("ReduceMean", d)
    d2 = g.op("Mul", d, d)
    r2, r3 = g.reduce("ReduceMean", d2), g.reduce("ReduceMean", g.op("Mul", d2, d))
    r4 = g.reduce("ReduceMean", g.op("Mul", d2, d2))
    dd = g.op("Mul", delta, delta)
    m2 = g.op("Sub", r2, dd)
    m3 = g.op("Add", g.op("Sub", r3, g.op("Mul", g.const(3.0), g.op("Mul", delta, r2))),
              g.op("Mul", g.const(2.0), g.op("Mul", dd, delta)))
    m4 = g.op("Sub", g.op("Add", g.op("Sub", r4, g.op("Mul", g.const(4.0),
                                                     g.op("Mul", delta, r3))),
                          g.op("Mul", g.const(6.0), g.op("Mul", dd, r2))),
              g.op("Mul", g.const(3.0), g.op("Mul", dd, dd)))
    zero = g.const(0.0)
    spread = g.op("And", g.op("Greater", m2, zero), g.op("Not", constant))
    safe = g.op("Where", spread, m2, g.const(1.0))
    std = g.op("Sqrt", safe)
    parts["mean"] = g.op("Add", mean0, delta)
    parts["std"] = g.op("Where", spread, std, zero)
    parts["skewness"] = g.op("Where", spread, g.op("Div", m3, g.op("Mul", safe, std)), zero)
    parts["kurtosis"] = g.op("Where", spread, g.op("Sub", g.op("Div", m4, g.op(
        "Mul", safe, safe)), g.const(3.0)), zero)
    rms = g.op("Sqrt", g.reduce("ReduceMean", g.op("Mul", x, x)))
    absx = g.op("Abs", x)
    meanabs, maxabs = g.reduce("ReduceMean", absx), g.reduce("ReduceMax", absx)
    parts.update(rms=rms, min=mn, max=mx, peak_to_peak=g.op("Sub", mx, mn))
    parts["crest_factor"] = g.ratio(maxabs, rms)
    parts["shape_factor"] = g.ratio(rms, meanabs)
    parts["impulse_factor"] = g.ratio(maxabs, meanabs)
    if not changes:
        return constant
    axes = g.const([2], np.int64, "axes")
    head = g.const([0], np.int64), g.const([length - 1], np.int64)
    tail = g.const([1], np.int64), g.const([length], np.int64)
    nonneg = g.op("GreaterOrEqual", x, zero)
    flips = g.op("Xor", g.op("Slice", nonneg, *tail, axes), g.op("Slice", nonneg, *head, axes))
    inv = g.const(1.0 / (length - 1))
    parts["zero_crossing_rate"] = g.op("Mul", g.reduce("ReduceSum", g.op(
        "Cast", flips, to=TensorProto.FLOAT)), inv)
    step = g.op("Abs", g.op("Sub", g.op("Slice", x, *tail, axes), g.op("Slice", x, *head, axes)))
    parts["mean_absolute_change"] = g.op("Mul", g.reduce("ReduceSum", step), inv)
    return constant


def band_matrix(ranges: np.ndarray, n_bins: int) -> np.ndarray:
    m = np.zeros((n_bins, len(ranges)), dtype=np.float32)
    for j, (lo, hi) in enumerate(ranges):
        m[lo:hi, j] = 1.0
    return m


def power(g: Graph, spectrum: str, scale: float, n_bins: int) -> str:
    """[N, C, K, 2] spectrum -> one-sided power m_k |X_k|^2 * scale, [N, C, K]."""
    mk = np.full(n_bins, 2.0 * scale)
    mk[0] = mk[-1] = scale
    sq = g.reduce("ReduceSum", g.op("Mul", spectrum, spectrum), axis=3, keepdims=0)
    return g.op("Mul", sq, g.const(mk))
