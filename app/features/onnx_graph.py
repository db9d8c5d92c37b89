"""The feature spec as an ONNX graph of standard operators: raw windows in, features out."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper

from app.features.graph_ops import Graph, band_matrix, power, time_features
from app.features.spec import TIME_FEATURES, FeatureSpec
from app.features.validity import ValidityLimits
from app.features.validity_graph import LEVEL_NAME, OK_NAME, REASON_NAME, validity_nodes

OPSET = 21  # DFT with axis as an input (opset 20+); onnxruntime >= 1.17 runs it
ML_OPSET = 3  # ai.onnx.ml 3: tree thresholds as double tensors (IsolationForest needs it)
INPUT_NAME = "window"
OUTPUT_NAME = "features"


def ir_version() -> int:
    """Smallest IR version that carries the pinned opsets (older runtimes load it too)."""
    return onnx.helper.find_min_ir_version_for(
        [helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)])


def _spectral_features(g: Graph, x: str, spec: FeatureSpec, parts: dict[str, str]) -> None:
    length, n_bins = spec.window, spec.window // 2 + 1
    df = spec.sample_rate / length
    win = spec.window_values()
    d = g.op("Sub", x, g.reduce("ReduceMean", x))
    last = g.const([3], np.int64, "axes")
    spectrum = g.op("DFT", g.op("Unsqueeze", g.op("Mul", d, g.const(win)), last), onesided=1)
    p = power(g, spectrum, 1.0 / (length * float(np.square(win).sum())), n_bins)
    total = g.reduce("ReduceSum", p)
    has_power = g.op("Greater", total, g.const(0.0))
    kdf = (np.arange(n_bins) * df).reshape(-1, 1)
    parts["spectral_centroid"] = g.ratio(g.op("MatMul", p, g.const(kdf)), total)
    tail = g.op("Slice", p, g.const([1], np.int64), g.const([n_bins], np.int64),
                g.const([2], np.int64))
    peak = g.op("Cast", g.op("ArgMax", tail, axis=2, keepdims=1), to=TensorProto.FLOAT)
    dominant = g.op("Mul", g.op("Add", peak, g.const(1.0)), g.const(df))
    parts["dominant_frequency"] = g.op("Where", has_power, dominant, g.const(0.0))
    if "band_energy" in spec.features:
        parts["band_energy"] = g.op("MatMul", p, g.const(band_matrix(spec.band_bins(), n_bins)))
    if not spec.needs_envelope:
        return
    (lo, hi), env_ranges = spec.envelope_bins()
    keep = np.zeros((n_bins, 1))
    keep[lo:hi] = 2.0  # analytic signal: positive frequencies doubled, the rest dropped
    band = g.op("Mul", spectrum, g.const(keep))
    pads = g.const([0, 0, 0, 0, 0, 0, length - n_bins, 0], np.int64, "pads")
    analytic = g.op("DFT", g.op("Pad", band, pads), inverse=1, onesided=0)  # scaled by 1/L
    env = g.op("Sqrt", g.reduce("ReduceSum", g.op("Mul", analytic, analytic), axis=3,
                                keepdims=0))
    centred = g.op("Sub", env, g.reduce("ReduceMean", env))
    env_spec = g.op("DFT", g.op("Unsqueeze", centred, last), onesided=1)
    pe = power(g, env_spec, 1.0 / (length * length), n_bins)
    parts["envelope_band_energy"] = g.op("MatMul", pe, g.const(band_matrix(env_ranges,
                                                                            n_bins)))


def _v1_features(g: Graph, x: str, spec: FeatureSpec) -> str:
    """Version 1 features of windows x [N, C, L] -> [N, F]."""
    parts: dict[str, str] = {}
    constant = time_features(g, x, spec, parts)
    if spec.needs_spectrum:
        _spectral_features(g, x, spec, parts)
    order = [f for f in TIME_FEATURES if f in spec.features]
    order += [f for f in ("spectral_centroid", "dominant_frequency", "band_energy",
                          "envelope_band_energy") if f in spec.features]
    per = g.op("Concat", *[parts[f] for f in order], axis=2)
    # A constant window has no spread and no spectrum: every ratio and moment 0
    # except mean, rms, min, max (kept as computed), as in the kernels.
    keep = np.array([f in ("mean", "rms", "min", "max", "crest_factor", "shape_factor",
                           "impulse_factor") for f in spec.channel_feature_names()])
    per = g.op("Where", g.op("And", constant, g.const(~keep, np.bool_)), g.const(0.0), per)
    return g.op("Reshape", per, g.const([-1, spec.n_features], np.int64, "shape"))


def feature_graph(spec: FeatureSpec, prefix: str = "fx_", limits: ValidityLimits | None = None
                  ) -> onnx.ModelProto:
    """ONNX model: ``window`` float32 [batch, channels, window] -> ``features`` [batch, F].

    Columns match ``extract_windows`` (channel-major, ``spec.feature_names()``).  With
    ``limits`` the graph also checks its input (outputs ``input_ok``, ``input_reason``,
    ``input_level``, as ``app.features.validity.check_windows``) and computes the
    features of the sanitised windows, so no input makes them NaN.
    """
    g = Graph(prefix)
    x = INPUT_NAME
    outputs = []
    if limits is not None:
        if tuple(limits.channels) != spec.channels:
            raise ValueError(f"validity limits are for channels {list(limits.channels)}, the "
                             f"spec has {list(spec.channels)}")
        x, ok, reason, level = validity_nodes(g, x, limits)
        heads: list[tuple[str, str, int, list[str | int]]] = [
            (OK_NAME, ok, TensorProto.BOOL, ["batch"]),
            (REASON_NAME, reason, TensorProto.INT64, ["batch"]),
            (LEVEL_NAME, level, TensorProto.FLOAT, ["batch", len(spec.channels)])]
        for name, src, kind, shape in heads:
            g.nodes.append(helper.make_node("Identity", [src], [name]))
            outputs.append(helper.make_tensor_value_info(name, kind, shape))
    if spec.version >= 2:
        from app.features.condition_graph import condition_features

        feats = condition_features(g, x, spec)
    else:
        feats = _v1_features(g, x, spec)
    g.nodes.append(helper.make_node("Identity", [feats], [OUTPUT_NAME]))
    inputs = [helper.make_tensor_value_info(
        INPUT_NAME, TensorProto.FLOAT, ["batch", len(spec.channels), spec.window])]
    outputs.insert(0, helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT,
                                                    ["batch", spec.n_features]))
    graph = helper.make_graph(g.nodes, "plantml_features", inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="plantml", doc_string=spec.spec_hash())
    model.ir_version = ir_version()
    onnx.checker.check_model(model, full_check=True)
    return model
