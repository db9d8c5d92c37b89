"""Issue 15.4 (event log): the controller records every activation, commit, rollback and
revert durably and serves them over Modbus, so a rollback nobody audited is still found."""

from __future__ import annotations

from pymodbus.client import ModbusTcpClient

from app.devices.flash import ControllerClient, flash_package, rollback
from app.devices.protocol import events as ev
from app.devices.protocol.events import Event
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, package


def test_activations_and_rollbacks_are_kept_and_served(controller_factory, kit):
    c = controller_factory()
    p1, p2 = package(kit, 1), package(kit, 2)
    o1 = flash_package(c.endpoint, p1, policy=PATIENT, signer=OPERATOR)
    o2 = flash_package(c.endpoint, p2, policy=PATIENT, signer=OPERATOR)
    rollback(c.endpoint, PATIENT, signer=OPERATOR)
    with ControllerClient.open(c.endpoint, PATIENT, signer=OPERATOR) as client:
        events = client.events()
        assert [e.kind_name for e in events] == ["activated", "committed", "activated",
                                                 "committed", "rolled_back"]
        assert [e.seq for e in events] == [1, 2, 3, 4, 5]
        last = events[-1]
        assert (last.before_version, last.after_version) == (2, 1)
        assert o2.package_sha256.startswith(last.before_sha)
        assert o1.package_sha256.startswith(last.after_sha)
        assert [e.seq for e in client.events(after=3)] == [4, 5]
    # Any Modbus master reads the same registers (raw pymodbus, no PlantML client).
    raw = ModbusTcpClient("127.0.0.1", port=c.endpoint.port)
    assert raw.connect()
    try:
        head = raw.read_input_registers(ev.EVENT_BASE, count=ev.EVENT_HEAD, device_id=1)
        assert not head.isError() and head.registers[:4] == [0, 5, ev.EVENT_DEPTH,
                                                              ev.EVENT_REGS]
        rec = raw.read_input_registers(ev.address(5), count=ev.EVENT_REGS, device_id=1)
        assert Event.decode(rec.registers) == last
    finally:
        raw.close()
    # Kept across a restart of the runtime (the state folder holds them).
    c.server.stop()
    c.runtime.stop()
    again = controller_factory()  # the same state folder: a reboot
    with ControllerClient.open(again.endpoint, PATIENT, signer=OPERATOR) as client:
        assert client.events() == events
    assert controller_factory("fresh") and not list((kit.root / "fresh").glob("events.json"))

def test_the_ring_keeps_the_newest(tmp_path):
    from app.devices.controller.events import EventLog
    log = EventLog.load(tmp_path)
    for _ in range(ev.EVENT_DEPTH + 5):
        log.record(ev.ACTIVATED, 1, None, None)
    again = EventLog.load(tmp_path)
    assert [e.seq for e in again.events] == list(range(6, ev.EVENT_DEPTH + 6))
    regs = again.region()
    at = ev.address(ev.EVENT_DEPTH + 5) - ev.EVENT_BASE
    assert Event.decode(regs[at:at + ev.EVENT_REGS]).seq == ev.EVENT_DEPTH + 5
