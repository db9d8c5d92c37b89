"""Input validity as ONNX nodes: the checks of app.features.validity and the sanitised windows."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto

from app.features.graph_ops import Graph
from app.features.validity import (
    CLIPPED,
    FLAT,
    LEVEL_HIGH,
    LEVEL_LOW,
    NON_FINITE,
    SPEED,
    SPEED_KIND,
    ValidityLimits,
)

OK_NAME = "input_ok"  # bool [batch]: the window is valid input
REASON_NAME = "input_reason"  # int64 [batch]: OR of the reason bits (0 when valid)
LEVEL_NAME = "input_level"  # float32 [batch, channels]: RMS, or the speed channel's mean


def _per_channel(values, dtype=np.float32) -> np.ndarray:
    return np.asarray(values, dtype=dtype).reshape(1, -1, 1)


def validity_nodes(g: Graph, x: str, limits: ValidityLimits) -> tuple[str, str, str, str]:
    """Adds the checks on windows x [N, C, L]; returns (clean windows, ok, reason, level).

    The clean windows have non-finite samples set to 0, and are all zeros for every
    invalid window: the features (and the model behind them) never see bad numbers.
    """
    cfg = limits.config
    zero = g.const(0.0)
    bad = g.op("Or", g.op("IsNaN", x), g.op("IsInf", x))
    xs = g.op("Where", bad, zero, x)
    flags: dict[int, str] = {NON_FINITE: g.reduce("ReduceMax", g.op(
        "Cast", bad, to=TensorProto.FLOAT))}
    mean = g.reduce("ReduceMean", xs)
    rms = g.op("Sqrt", g.reduce("ReduceMean", g.op("Mul", xs, xs)))
    d = g.op("Sub", xs, mean)
    std = g.op("Sqrt", g.reduce("ReduceMean", g.op("Mul", d, d)))
    mx, mn = g.reduce("ReduceMax", xs), g.reduce("ReduceMin", xs)
    flat = g.op("Or", g.op("Equal", mx, mn),
                g.op("LessOrEqual", std, g.const(_per_channel(limits.flat_floor))))
    tol = g.op("Mul", g.const(cfg.clip_tolerance), g.op("Sub", mx, mn))

    def share(cond: str) -> str:
        return g.reduce("ReduceMean", g.op("Cast", cond, to=TensorProto.FLOAT))

    at_hi = share(g.op("GreaterOrEqual", xs, g.op("Sub", mx, tol)))
    at_lo = share(g.op("LessOrEqual", xs, g.op("Add", mn, tol)))
    clipped = g.op("And", g.op("Greater", g.op("Max", at_hi, at_lo), g.const(cfg.clip_share)),
                   g.op("Not", flat))
    speed = np.array([k == SPEED_KIND for k in limits.kinds])
    is_speed = g.const(_per_channel(speed, np.bool_), np.bool_)
    is_vib = g.const(_per_channel(~speed, np.bool_), np.bool_)
    level = g.op("Where", is_speed, mean, rms)
    flags[FLAT] = g.op("And", flat, is_vib)
    flags[CLIPPED] = g.op("And", clipped, is_vib)
    if limits.envelope:
        low = g.op("Less", level, g.const(_per_channel(limits.low())))
        high = g.op("Greater", level, g.const(_per_channel(limits.high())))
        flags[LEVEL_LOW] = g.op("And", low, is_vib)
        flags[LEVEL_HIGH] = g.op("And", high, is_vib)
        stopped = g.op("Not", g.op("Greater", level, zero))
        flags[SPEED] = g.op("And", g.op("Or", g.op("Or", low, high), stopped), is_speed)
    reason = g.const(np.zeros(1), np.int64)
    for bit, flag in flags.items():
        as_int = g.op("Cast", flag, to=TensorProto.INT64)
        anywhere = g.op("ReduceMax", as_int, g.const([1, 2], np.int64, "axes"), keepdims=0)
        reason = g.op("Add", reason, g.op("Mul", anywhere, g.const(np.array([bit]), np.int64)))
    ok = g.op("Equal", reason, g.const(np.zeros(1), np.int64))
    keep = g.op("Unsqueeze", ok, g.const([1, 2], np.int64, "axes"))
    clean = g.op("Where", keep, xs, zero)
    level2d = g.op("Squeeze", level, g.const([2], np.int64, "axes"))
    return clean, ok, reason, level2d
