"""Runtime parts: the engine, running statistics, the replay sensor, slot damage at boot."""

from __future__ import annotations

import numpy as np
import onnx

from app.devices.controller.engine import Engine, RunningStats, simple_features
from app.devices.controller.sensor import ReplaySensor
from app.devices.flash import flash_package
from app.devices.protocol.codes import ErrorCode, State
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, make_runtime, package, window_model


def test_engine_runs_fixed_batch_models_row_by_row(tmp_path):
    model = onnx.load_from_string(window_model(3))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    path = tmp_path / "fixed.onnx"
    path.write_bytes(model.SerializeToString())
    engine = Engine(path)
    out = engine.run(np.ones((3, 1, 64), dtype=np.float32))
    assert engine.one_at_a_time and out["scores"].shape == (3, 3) and out["label"].shape == (3,)
    pred = engine.predict(np.ones((1, 64), dtype=np.float32))
    assert pred.features.tolist() == [1.0, 1.0] and pred.latency_s > 0


def test_running_stats_match_numpy():
    x = np.random.default_rng(0).normal(size=(500, 4)) * [1, 2, 3, 4]
    stats = RunningStats()
    for row in x:
        stats.update(row)
    stats.update(np.array([np.nan, 0, 0, 0]))  # a bad window is skipped
    assert stats.count == 500
    assert np.allclose(stats.mean, x.mean(0)) and np.allclose(stats.variance(), x.var(0, ddof=1))
    assert simple_features(np.array([[1.0, -1.0]])).tolist() == [0.0, 1.0, 1.0, 2.0]


def test_replay_sensor_blocks_and_windows():
    data = np.arange(10, dtype=np.float32)[np.newaxis]
    sensor = ReplaySensor(data, 100.0, block=4)
    assert sensor.advance().tolist() == [[0, 1, 2, 3]] and sensor.current[0] == 1
    sensor.advance()
    assert sensor.advance().tolist() == [[8, 9, 0, 1]]
    assert sensor.window(3, 1).tolist() == [[9, 0, 1]] and sensor.window(3, 2) is None
    assert sensor.period_s == 0.04


def test_a_damaged_active_slot_falls_back_at_boot(controller_factory, kit, tmp_path):
    ctl = controller_factory("box")
    first = flash_package(ctl.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    assert flash_package(ctl.endpoint, package(kit, 2), policy=PATIENT, signer=OPERATOR).ok
    ctl.server.stop()
    ctl.runtime.stop()
    model = tmp_path / "box" / "slot_b" / "model.onnx"
    model.write_bytes(model.read_bytes()[:-10] + b"0123456789")  # a bad sector
    rt = make_runtime(kit, tmp_path / "box")
    rt.start()
    try:
        st = rt.status_values()
        assert st["state"] == State.ACTIVE and st["active_sha256"] == first.package_sha256
        assert st["last_error"] == ErrorCode.BOOT_REVERTED and "damaged" in st["error_text"]
        assert not (tmp_path / "box" / "slot_b").exists()
    finally:
        rt.stop()
