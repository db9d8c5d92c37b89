"""Unit ids in the target syntax (issue 11): a reference controller on unit 3 of a socat serial
link answers the service at ``#unit=3`` and stays silent to unit 1, which the client reports
in one sentence naming the unit and the port; two controllers on one virtual multi-drop bus
are told apart by their unit ids, and a roll-out to the units of one bus flashes them one
after another."""

from __future__ import annotations

import shutil
import sys
from contextlib import ExitStack

import pytest

from app.core.fleet import DONE, FLASHED
from app.devices.flash import LinkTimeout, read_status
from app.fieldbus import Endpoint, RetryPolicy
from app.services.controller_runtime import start_controller
from tests.multidrop import MultiDropBus
from tests.nullmodem import NullModem
from tests.services.test_controllers import _trained

pytestmark = pytest.mark.skipif(
    shutil.which("socat") is None or sys.platform == "win32",
    reason="virtual serial links need Linux ptys and socat (apt-get install socat)")

BAUD = 115200
#: Only for the request that must go unanswered: short, so the bounded retries are quick.
SILENT = RetryPolicy(timeout_s=0.3, timeout_retries=1)


@pytest.fixture
def trust(services, people, tmp_path):
    path = tmp_path / "trust.json"
    services.keys.export(people["admin"], path=path)
    return path


def test_a_controller_on_unit_3_answers_there_and_not_at_unit_1(services, people, trust,
                                                                 tmp_path):
    opr = people["operator"]
    with NullModem(tmp_path) as cable, start_controller(
            state_dir=tmp_path / "edge", hardware_id="EDGE-03", trust=trust,
            serial=str(cable.a), baud=BAUD, unit=3) as running:
        assert running.target == f"rtu:{cable.a}:{BAUD}#unit=3"
        target = f"rtu:{cable.b}:{BAUD}#unit=3"
        identity, status = services.controllers.status(opr, target=target)
        assert identity.hardware_id == "EDGE-03" and status.active is None
        answered = running.server.requests
        assert answered > 0
        with pytest.raises(LinkTimeout) as info:
            read_status(Endpoint.parse(f"rtu:{cable.b}:{BAUD}"), SILENT)
        assert str(info.value) == (f"status input registers 100-223: no answer from unit 1 "
                                   f"on {cable.b} within 0.3 s ({BAUD} baud 8N1, 2 tries)")
        # Silent because it is not unit 1, not because the link broke: it heard the frames,
        # served none of them, and still answers at unit 3.
        assert running.server.requests == answered
        assert services.controllers.status(opr, target=target)[0].hardware_id == "EDGE-03"


def test_units_of_one_bus_are_told_apart_and_flashed_one_after_another(services, people,
                                                                        trust, tmp_path):
    opr = people["operator"]
    units = (3, 5, 9)
    with MultiDropBus(len(units)) as bus, ExitStack() as stack:
        running = [stack.enter_context(start_controller(
            state_dir=tmp_path / f"edge{u}", hardware_id="EDGE-01", trust=trust,
            serial=port, baud=BAUD, unit=u)) for u, port in zip(units, bus.device_ports,
                                                               strict=True)]
        targets = [f"rtu:{bus.master_port}:{BAUD}#unit={u}" for u in units]
        for u, target in zip(units, targets, strict=True):
            services.fleet.add(opr, name=f"pump-{u}", endpoint=target, hardware_id="EDGE-01",
                               group="bus")
        with pytest.raises(LinkTimeout, match=f"no answer from unit 4 on {bus.master_port}"):
            read_status(Endpoint.parse(f"rtu:{bus.master_port}:{BAUD}#unit=4"), SILENT)
        assert all(r.server.requests == 0 for r in running), "no one answers unit 4"

        (ref,) = _trained(services, people, tmp_path)
        ro = services.fleet.start(opr, ref=ref, group="bus", canary="pump-3", batch_size=8,
                                  parallel=8, observe_s=0)
        assert ro.state == DONE and [s.state for s in ro.steps] == [FLASHED] * 3
        assert [(s.controller, s.batch) for s in ro.steps] == [
            ("pump-3", 0), ("pump-5", 1), ("pump-9", 1)]
        # One bus: the two of batch 1 one after another, though 8 flashes could run at once.
        five, nine = ro.steps[1], ro.steps[2]
        assert five.finished_at is not None and nine.started_at is not None
        assert five.finished_at <= nine.started_at
        # Each device runs the version, and each unit's status is its own device's.
        for r, target in zip(running, targets, strict=True):
            requests = [x.server.requests for x in running]
            _, status = services.controllers.status(opr, target=target)
            assert status.active is not None and f"{status.active.name}:v" \
                f"{status.active.version}" == ref
            assert r.runtime.machine.disk.active is not None
            served = [x.server.requests - n for x, n in zip(running, requests, strict=True)]
            assert [n > 0 for n in served] == [x is r for x in running], served
