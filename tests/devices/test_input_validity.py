"""Issue 9.1 on the controller: the runtime reads the model's input check for every window.
A dead-sensor (all-zero) window and a NaN window are read over Modbus as invalid with their
reason (sensor fault in the status block, no class in the prediction register), counted, and
kept out of the running statistics drift is judged by."""

from __future__ import annotations

import numpy as np

from app.devices.controller.engine import Engine
from app.devices.flash import ControllerClient, flash_package
from app.devices.protocol.codes import INPUT_REASONS, INVALID_PREDICTION, describe_input
from app.features.validity import FLAT, NON_FINITE, REASONS
from tests.devices.conftest import PATIENT
from tests.devices.kit import (
    OPERATOR,
    WINDOW,
    ScriptedSensor,
    package,
    wait_for,
    window_model,
)


def _sensor() -> ScriptedSensor:
    t = np.arange(8000) / 2000.0
    x = np.sin(2 * np.pi * 50 * t) + 0.1 * np.random.default_rng(0).normal(size=t.size)
    return ScriptedSensor(x[np.newaxis].astype(np.float32), 2000.0, block=WINDOW, speed=4.0)


def test_dead_and_nan_windows_are_invalid_counted_and_kept_out_of_drift(controller_factory,
                                                                        kit):
    sensor = _sensor()
    ctl = controller_factory(sensor=sensor)
    assert flash_package(ctl.endpoint, package(kit, 1, validity=True), policy=PATIENT,
                         signer=OPERATOR).ok
    dead = np.zeros((1, WINDOW), dtype=np.float32)
    nan = sensor.data[:, :WINDOW].copy()
    nan[0, 17] = np.nan
    with ControllerClient.open(ctl.endpoint, PATIENT) as c:
        live = wait_for(c.live, lambda v: v.stats.count >= 3 and v.input_reason == 0,
                        "valid windows in the running statistics")
        assert live.prediction >= 0 and c.status().sensor_fault == 0
        invalid_before = live.invalid_count
        for window, bit in ((dead, FLAT), (nan, NON_FINITE)):
            sensor.override = window
            first = wait_for(c.live, lambda v, b=bit: v.input_reason == b,
                             f"the controller flagging input reason {bit}")
            later = wait_for(c.live, lambda v, f=first: v.invalid_count >= f.invalid_count + 3,
                             "three more invalid windows")
            assert later.input_reason == bit and later.invalid_reason == REASONS[bit]
            assert later.prediction == INVALID_PREDICTION and not np.any(later.scores)
            # Nothing of them in the statistics, nor in the published feature vector.
            assert later.stats.count == first.stats.count
            assert np.array_equal(later.stats.mean, first.stats.mean)
            assert np.array_equal(later.stats.m2, first.stats.m2)
            assert np.array_equal(later.features, first.features)
            status = c.status()
            assert status.sensor_fault == bit
        assert later.invalid_count > invalid_before + 6
        frozen = later.stats.count
        sensor.override = None  # the sensor is plugged in again
        back = wait_for(c.live, lambda v: v.input_reason == 0 and v.stats.count > frozen + 2,
                        "valid windows again")
        assert back.prediction >= 0 and c.status().sensor_fault == 0
        assert back.invalid_count >= later.invalid_count


def test_a_model_without_the_input_check_still_flags_non_finite_windows(tmp_path):
    path = tmp_path / "plain.onnx"
    path.write_bytes(window_model(1))
    engine = Engine(path)
    ok = engine.predict(np.ones((1, WINDOW), dtype=np.float32))
    window = np.ones((1, WINDOW), dtype=np.float32)
    window[0, 3] = np.nan
    assert ok.valid and engine.predict(window).input_reason == NON_FINITE


def test_the_wire_reasons_are_the_features_reasons():
    assert INPUT_REASONS == REASONS
    assert describe_input(FLAT | NON_FINITE) == f"{REASONS[NON_FINITE]}; {REASONS[FLAT]}"
    assert describe_input(0) == "" and "0x40" in describe_input(64)
