"""The version 2 ONNX graph equals the native features (1e-4, float32) and checks its input."""

import dataclasses

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from app.features import extract_windows
from app.features.compare import compare_features
from app.features.kinematics import Kinematics
from app.features.onnx_graph import feature_graph
from app.features.spec import FeatureSpec
from app.features.validity import (
    CLIPPED,
    FLAT,
    LEVEL_HIGH,
    LEVEL_LOW,
    NON_FINITE,
    SPEED,
    ValidityLimits,
    check_windows,
    sanitized,
)
from tests.conftest import CWRU
from tests.features.test_condition_kernel import ALL_V2, bearing_signal

FS = 12000.0


def run(spec, windows, limits=None):
    model = feature_graph(spec, limits=limits)
    onnx.checker.check_model(model, full_check=True)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"window": windows.astype(np.float32)}), strict=True))


def machine(channels, speed_channel="", n=40_000, rpm=1750.0, seed=0):
    rng = np.random.default_rng(seed)
    rows = [bearing_signal(n, 3.5848 * rpm / 60, seed=seed),
            0.01 * rng.standard_t(3, size=n) + 2.0]
    if speed_channel:
        rows.append(rpm + 5 * rng.standard_normal(n))
    return np.stack(rows)


def spec_for(channels, speed_channel="", **kw):
    kin = Kinematics.resolve(rpm=1800.0, channels=channels, speed_channel=speed_channel,
                             bearing={"a": "SKF 6205-2RS JEM", "b": "SKF 6203-2RS JEM"})
    spec = FeatureSpec.default(FS, channels=channels, window=2048, hop=1000, kinematics=kin)
    return dataclasses.replace(spec, features=ALL_V2, **kw)


def windows_of(x, spec):
    return np.ascontiguousarray(
        sliding_window_view(x, spec.window, axis=-1)[:, ::spec.hop].transpose(1, 0, 2))


@pytest.mark.parametrize("speed_channel", ["", "rpm"])
@pytest.mark.parametrize("window_function", ["hann", "rectangular"])
def test_graph_equals_native_features(speed_channel, window_function):
    channels = ("a", "b", "rpm") if speed_channel else ("a", "b")
    spec = spec_for(channels, speed_channel, window_function=window_function)
    wins = windows_of(machine(channels, speed_channel), spec)
    native32 = extract_windows(wins.astype(np.float32), spec)
    got = run(spec, wins)["features"]
    assert got.shape == native32.shape == (len(wins), spec.n_features)
    parity = compare_features(native32, got, spec, rtol=1e-4)
    assert parity.violations == 0, parity


def test_default_graph_is_small_and_pinned():
    spec = FeatureSpec.default(FS, channels=("DE",), kinematics=Kinematics.resolve(
        rpm=1797.0, channels=("DE",), bearing="SKF 6205-2RS JEM"))
    model = feature_graph(spec)
    dfts = [n for n in model.graph.node if n.op_type == "DFT"]
    assert len(dfts) == 3  # spectrum, inverse baseband (M = 256), envelope spectrum


@pytest.mark.parametrize("speed_channel", ["", "rpm"])
def test_graph_flags_bad_input_like_python(speed_channel):
    channels = ("a", "b", "rpm") if speed_channel else ("a", "b")
    spec = spec_for(channels, speed_channel)
    wins = windows_of(machine(channels, speed_channel), spec)
    first = check_windows(wins, ValidityLimits.structural(channels, speed_channel))
    limits = ValidityLimits.from_training(channels, first.level, first.spread, speed_channel)
    bad = np.repeat(wins[:1], 9, axis=0)
    bad[0, :2] = 0.0  # dead sensors
    bad[1, 0, 100] = np.nan
    bad[2, 0] = np.clip(bad[2, 0], -0.5, 0.5)  # a saturated amplifier
    bad[3, :2] *= 9.81 * 100  # a unit mistake far outside the envelope
    bad[4, 0] = 3.3  # stuck at an offset
    bad[5, 0, 5] = np.inf
    bad[6, 0] *= 2.0  # a sensor of twice the gain: still valid
    bad[7, 1] *= 0.5
    bad[8, 0] = 1e30  # beyond float32 squares
    if speed_channel:
        bad[6, 2] = 0.0  # machine stopped
    want = check_windows(bad, limits)
    out = run(spec, bad, limits)
    assert out["input_ok"].dtype == np.bool_ and out["input_reason"].dtype == np.int64
    assert np.array_equal(out["input_ok"], want.ok), (out["input_reason"], want.reason)
    assert np.array_equal(out["input_reason"], want.reason)
    assert want.reason[0] & FLAT and want.reason[0] & LEVEL_LOW
    assert want.reason[1] == NON_FINITE and want.reason[5] == NON_FINITE
    assert want.reason[2] == CLIPPED and want.reason[4] & FLAT
    assert want.reason[3] == LEVEL_HIGH and want.reason[8] & LEVEL_HIGH
    assert want.reason[6] == (SPEED if speed_channel else 0) and want.reason[7] == 0
    np.testing.assert_allclose(out["input_level"][:8], want.level[:8], rtol=1e-5)
    # Every output is finite; an invalid window's features are those of zeros.
    assert np.isfinite(out["features"]).all()
    native = extract_windows(sanitized(bad, want).astype(np.float32), spec)
    assert compare_features(native, out["features"], spec).violations == 0


@pytest.mark.skipif(not CWRU.is_dir(), reason=f"CWRU recordings not found in {CWRU}")
def test_cwru_drive_end_within_1e4():
    spec = FeatureSpec.default(FS, channels=("DE",), window=2048, hop=2048,
                               kinematics=Kinematics.resolve(rpm=1797.0, channels=("DE",),
                                                             bearing="SKF 6205-2RS JEM"))
    worst = 0.0
    for path in sorted(CWRU.glob("*.npz")):
        with np.load(path) as data:
            wins = windows_of(data["DE"][:, 0][None, :], spec)
        native = extract_windows(wins.astype(np.float32), spec)
        parity = compare_features(native, run(spec, wins)["features"], spec)
        assert parity.violations == 0, (path.name, parity)
        worst = max(worst, parity.max_rel_err)
    assert worst < 1e-4
