"""Every CWRU 0 HP recording replayed through the reference controller: the per-class statistics
it publishes over Modbus, scored by the watch's own drift code, stay green for 60 s of signal;
the same replay at gain x2 raises the alarm, and the alarm clears after the signal returns to
normal. The replay runs on a frozen fake clock, faster than real time; nothing waits on time."""

from __future__ import annotations

import json

import numpy as np
import pytest

from app.core.clock import FakeClock
from app.devices.controller.sensor import ReplaySensor
from app.devices.flash import flash_package
from app.devices.flash.class_stats import read_class_stats
from app.devices.protocol import class_stats as cs
from app.ml.drift_class import ClassSummaryDrift, DriftAlarm
from app.services.controller_drift import assess
from tests.conftest import CWRU
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, model_files, wait_for
from tests.packages.kit import HW, NOW

pytestmark = pytest.mark.skipif(not CWRU.is_dir() or not any(CWRU.glob("*.npz")),
                                reason=f"CWRU recordings not found in {CWRU} "
                                       "(shared data absent)")

RATE, WINDOW, BLOCK = 12_000.0, 2048, 1024
STEP = 5            # windows per clock step: 10 blocks, 0.85 s (the loop catches up 1 s)
POLL = 2            # steps between two looks, about 1.7 s of signal (the GUI polls at 1 s)
WINDOWS_60S = int(60 * RATE) // WINDOW


@pytest.fixture(scope="module")
def cwru():
    """The CWRU model of tests/ml (default recipe), exported, with its stored report."""
    from app.features.spec import FeatureSpec
    from app.ml import evaluate, export_onnx, train
    from app.ml.dataset import window_set
    from app.ml.schema import schema_for
    from tests.ml.conftest import CWRU_RECIPE, cwru_recordings

    recordings = cwru_recordings()
    spec = FeatureSpec.default(RATE, channels=("DE",), window=WINDOW, hop=512,
                               kinematics=CWRU_RECIPE.kinematics_for(("DE",)))
    data = window_set(recordings, spec)
    model = train(data, CWRU_RECIPE)
    report = evaluate(model, data, n_repeats=1, robustness=False)
    # As the watch reads them: the stored JSON artifacts of the version.
    stored = json.loads(json.dumps(report.to_dict()))
    schema = json.loads(json.dumps(schema_for(model).to_dict()))
    return recordings, export_onnx(model), stored, schema


@pytest.fixture
def edge(cwru, controller_factory, kit):
    """A reference controller running the CWRU model, its sensor stopped on a frozen clock."""
    recordings, exported, _, _ = cwru
    clock = FakeClock(NOW, frozen=True)
    sensor = ReplaySensor(recordings[0].signal, RATE, block=BLOCK)
    ctl = controller_factory(clock=clock, sensor=sensor)
    pkg = kit.build(files=model_files(exported.onnx_bytes), folder="cwru", model_name="cwru",
                    model_version=1, release_counter=1, hardware_ids=[HW],
                    input_schema=[{"name": "window", "dtype": "float32",
                                   "shape": ["batch", 1, WINDOW]}],
                    output_schema=[{"name": "label", "dtype": "int64", "shape": ["batch"]}])
    assert flash_package(ctl.endpoint, pkg, policy=PATIENT, signer=OPERATOR).ok
    return ctl, clock


class Replay:
    """Drives the controller's sensor by the fake clock and looks at it as the watch does."""

    def __init__(self, ctl, clock, report, schema) -> None:
        self.ctl, self.clock, self.report, self.schema = ctl, clock, report, schema
        self.alarm = DriftAlarm()
        self.levels: list[str] = []

    def play(self, signal: np.ndarray, *, fresh: bool) -> None:
        """Replay ``signal`` from its start (``fresh``: the statistics start again)."""
        rt = self.ctl.runtime
        rt.sensor = ReplaySensor(signal, RATE, block=BLOCK)
        if fresh:
            rt.reset_stats()
        # Block boundaries half a block away from every clock step: no rounding decides.
        self.clock.advance(0.5 * BLOCK / RATE)

    def step(self) -> None:
        rt = self.ctl.runtime
        want = rt.inference_count + STEP
        self.clock.advance(2 * STEP * BLOCK / RATE)
        wait_for(lambda: rt.inference_count, lambda n: n >= want, f"{STEP} more windows")

    def look(self) -> ClassSummaryDrift | None:
        snap = read_class_stats(self.ctl.endpoint, PATIENT)
        drift = assess(self.report, self.schema, None, snap, self.alarm)
        assert drift is None or isinstance(drift, ClassSummaryDrift)
        self.levels.append(drift.level if drift else "")
        return drift

    def run(self, windows: int) -> list[ClassSummaryDrift | None]:
        looks = []
        for k in range(windows // STEP):
            self.step()
            if (k + 1) % POLL == 0:
                looks.append(self.look())
        return looks


def test_every_training_recording_stays_green_and_gain_x2_alarms_then_clears(cwru, edge):
    recordings, _, report, schema = cwru
    ctl, clock = edge
    replay = Replay(ctl, clock, report, schema)
    for rec in recordings:
        label = rec.label
        # 1. The recording as trained: 60 s of signal, green at every look.
        replay.play(rec.signal, fresh=True)
        looks = replay.run(WINDOWS_60S)
        assert all(d is None or d.level == "ok" for d in looks), \
            (rec.id, [(d.level, d.at_least("warn")[:3]) for d in looks if d and d.level != "ok"])
        last = looks[-1]
        assert last is not None and dict(last.scored).get(label, 0) >= 100, (rec.id, last)
        assert last.held == cs.RING and last.invalid == 0
        # Before enough windows of the class were seen, nothing is scored (no alarm on few).
        assert looks[0] is None or dict(looks[0].scored)[label] >= 30

        # 2. The same recording at twice the sensor gain: the alarm, on the level alone.
        replay.play(2.0 * rec.signal, fresh=True)
        looks = replay.run(12 * STEP)  # about 10 s of signal
        alarmed = [d for d in looks if d is not None and d.level == "alarm"]
        assert alarmed, (rec.id, [d and d.at_least("warn")[:3] for d in looks])
        assert {(f.label, f.name) for f in alarmed[0].at_least("alarm")} == {(label, "DE.level")}

        # 3. Back to normal gain, same statistics: the alarm holds while the ring still holds
        # windows at x2, and clears once it has been replaced (128 windows, ~22 s).
        replay.play(rec.signal, fresh=False)
        looks = replay.run(cs.RING + 4 * cs.PUBLISH_EVERY)
        levels = [d.level if d else "" for d in looks]
        assert levels[0] == "alarm", (rec.id, levels)
        assert levels[-1] == "ok", (rec.id, levels)
        # Hysteresis: red until it is green, never amber on the way; then it stays green.
        cleared = levels.index("ok")
        assert set(levels[:cleared]) == {"alarm"} and set(levels[cleared:]) == {"ok"}, \
            (rec.id, levels)
