"""The version 1 ONNX feature graph equals the native features within 1e-4 relative (float32)."""

import dataclasses

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from app.features import extract_windows
from app.features.compare import compare_features
from app.features.onnx_graph import ML_OPSET, OPSET, feature_graph
from app.features.spec import TIME_FEATURES, FeatureSpec
from tests.conftest import CWRU


def run_graph(spec, windows):
    model = feature_graph(spec)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {"window": windows.astype(np.float32)})[0]


def windows_of(x, spec):
    return np.ascontiguousarray(
        sliding_window_view(x, spec.window, axis=-1)[:, ::spec.hop].transpose(1, 0, 2))


def assert_graph_parity(spec, wins):
    native = extract_windows(wins, spec)
    # Compare with the float32-rounded input: the graph's input is float32.
    native32 = extract_windows(wins.astype(np.float32), spec)
    got = run_graph(spec, wins)
    assert got.shape == native.shape and got.dtype == np.float32
    parity = compare_features(native32, got, spec, rtol=1e-4)
    assert parity.violations == 0, parity
    return native, got


def test_graph_is_valid_and_pinned():
    model = feature_graph(FeatureSpec.default_v1(12000.0))
    onnx.checker.check_model(model, full_check=True)
    assert {o.domain or "": o.version for o in model.opset_import} == {"": OPSET}
    assert ML_OPSET == 3
    assert [d.dim_param or d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim
            ] == ["batch", 1, 2048]
    assert any(n.op_type == "DFT" for n in model.graph.node)


@pytest.mark.parametrize("window_function", ["hann", "rectangular", "blackman"])
def test_random_signals(window_function):
    rng = np.random.default_rng(0)
    spec = dataclasses.replace(FeatureSpec.default_v1(12000.0, channels=("a", "b"), window=1024,
                                                   hop=700), window_function=window_function)
    x = np.stack([3.0 + 0.5 * rng.standard_normal(20_000),
                  rng.standard_t(df=3, size=20_000) * 0.01])
    assert_graph_parity(spec, windows_of(x, spec))


def test_feature_subsets():
    spec = FeatureSpec.default_v1(1000.0, window=256, hop=128)
    for feats in (TIME_FEATURES, ("rms", "dominant_frequency"), ("envelope_band_energy",),
                  ("band_energy", "skewness")):
        sub = dataclasses.replace(spec, features=feats)
        x = np.random.default_rng(1).standard_normal((1, 3000))
        assert_graph_parity(sub, windows_of(x, sub))


def test_constant_and_zero_windows_match():
    spec = FeatureSpec.default_v1(1000.0, window=256, hop=256)
    wins = np.stack([np.full((1, 256), v) for v in (0.0, 2.5, -1.0)])
    native, got = assert_graph_parity(spec, wins)
    assert np.array_equal(got, native.astype(np.float32))


@pytest.mark.skipif(not CWRU.is_dir(), reason=f"CWRU recordings not found in {CWRU}")
def test_cwru_drive_end_within_1e4():
    spec = FeatureSpec.default_v1(12000.0, channels=("DE",), window=2048, hop=2048)
    worst = 0.0
    for path in sorted(CWRU.glob("*.npz")):
        with np.load(path) as data:
            x = data["DE"][:, 0][None, :]
        native, got = assert_graph_parity(spec, windows_of(x, spec))
        worst = max(worst, compare_features(native, got, spec).max_rel_err)
    assert worst < 1e-4
