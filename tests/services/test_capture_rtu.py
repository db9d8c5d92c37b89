"""Issue 12: a capture over Modbus RTU (``plantml controllers capture TARGET --windows N``,
app/services/capture.py) from the reference controller on a socat serial link at 115200 baud,
at a unit id other than 1: the snapshot holds exactly the windows the controller's ring held
(ids, samples, predictions, scores, times) with their provenance."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import datetime

import numpy as np
import pytest

from app.data.synthetic import vibration
from app.services.capture import SOURCE, windows_of
from app.services.controller_runtime import start_controller
from tests.devices.kit import wait_for
from tests.nullmodem import NullModem
from tests.services.test_controllers import _trained

pytestmark = pytest.mark.skipif(
    shutil.which("socat") is None or sys.platform == "win32",
    reason="virtual serial links need Linux ptys and socat (apt-get install socat)")

BAUD, UNIT, N = 115200, 7, 3
HW = "EDGE-01"


def test_a_capture_over_rtu_holds_what_the_ring_held(services, people, tmp_path):
    opr, eng = people["operator"], people["engineer"]
    (ref,) = _trained(services, people, tmp_path)
    trust = tmp_path / "trust.json"
    services.keys.export(people["admin"], path=trust)
    # A ring deep enough that nothing the capture reads leaves it before the test compares.
    with NullModem(tmp_path) as cable, start_controller(
            state_dir=tmp_path / "edge", hardware_id=HW, trust=trust, serial=str(cable.a),
            baud=BAUD, unit=UNIT, replay=vibration("healthy", 60_000, seed=5)[None, :],
            capture_ring=4096) as running:
        target = f"rtu:{cable.b}:{BAUD}#unit={UNIT}"
        assert services.controllers.flash(opr, ref=ref, target=target).ok
        ring = running.runtime.capture
        before = wait_for(ring.snapshot, lambda held: len(held) >= N,
                          f"{N} windows in the ring")[-1].window_id
        snap = services.controllers.capture(opr, target=target, windows=N)
        held = {w.window_id: w for w in ring.snapshot()}
        boot = running.runtime.machine.disk.boot_count

    refs = windows_of(snap)
    ids = [w.window_id for w in refs]
    assert len(ids) == N and ids == list(range(ids[0], ids[0] + N)), ids
    assert set(ids) <= set(held), "every window captured was one the ring held"
    assert ids[-1] >= before, "the newest N when the capture began"
    prov = snap.provenance
    assert prov["source"] == SOURCE and prov["trigger"] == {"kind": "manual"}
    assert prov["controller"] == {"hardware_id": HW, "endpoint": target, "boot_count": boot}
    assert prov["model"] == ref and prov["window_ids"] == ids and prov["missed"] == []
    classes = prov["classes"]
    assert classes == json.loads(services.registry.artifact(eng, ref=ref, name="schema.json")
                                 )["classes"]
    rings = [held[i] for i in ids]
    assert [datetime.fromisoformat(t) for t in prov["time_range"]][1] == \
        datetime.fromisoformat(refs[-1].time)
    for ref_window, entry, w in zip(refs, prov["windows"], rings, strict=True):
        assert w.label in range(len(classes)) and ref_window.valid
        assert ref_window.proposed == classes[int(w.label)], "the prediction the model made"
        assert np.allclose(entry["scores"], w.scores, atol=1e-6)
        assert ref_window.model.startswith("v1 ") and w.model_version == 1
        # The wire carries the time in milliseconds.
        assert abs((datetime.fromisoformat(ref_window.time) - w.time).total_seconds()) <= 1e-3
    assert snap.labels == (), "a prediction is only a proposed label"
    # The samples: contiguous ids make one recording, the ring's windows end to end.
    assert len(snap.recordings) == 1 and snap.sample_rate == rings[0].rate
    _, arrays = services.datasets.load(eng, dataset=snap.dataset_id)
    (_, data), = list(arrays)
    expected = np.concatenate([w.samples for w in rings], axis=1)
    assert data.shape == expected.shape and np.array_equal(data.astype(np.float32), expected)
