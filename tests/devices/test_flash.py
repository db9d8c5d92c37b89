"""Flashing over TCP: the whole path, live data, rollback, compression, fit, commands."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pymodbus.client import ModbusTcpClient

from app.core.clock import FakeClock
from app.core.progress import CancelToken
from app.devices.flash import (
    ControllerClient,
    DeviceRefused,
    DoesNotFit,
    Endpoint,
    FlashCancelled,
    FlashFailed,
    FlashOptions,
    LinkLost,
    ProtocolError,
    flash_package,
    rollback,
    scan,
)
from app.devices.flash.payload import PackageFacts, check_fit, plan_transfer
from app.devices.flash.views import Identity
from app.devices.protocol import registers as r
from app.devices.protocol.codes import Capability, Command, ErrorCode, State
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, package, wait_for
from tests.packages.kit import HW, NOW


def test_flash_commit_live_and_rollback(controller_factory, kit):
    # The sensor delivers a block only when the test moves the clock, so the waveform
    # buffer cannot change while the client reads it (three requests), however slow they are.
    clock = FakeClock(NOW, frozen=True)
    controller = controller_factory(clock=clock)
    sensor = controller.runtime.sensor
    p1, p2 = package(kit, 1, pad=3000), package(kit, 2, pad=3000)
    seen: list[float] = []
    out = flash_package(controller.endpoint, p1, policy=PATIENT,
                        progress=lambda f, m: seen.append(f), signer=OPERATOR)
    assert out.ok and out.status.state is State.ACTIVE and out.status.active_slot == "A"
    assert out.status.active.version == 1 and out.compressed and out.wire_bytes < \
        out.package_bytes
    assert seen == sorted(seen) and seen[-1] == 1.0
    with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
        assert c.live().inference_count == 0
        blocks = sensor.seq
        clock.advance(3.5 * sensor.period_s)  # three blocks of one window each
        live = wait_for(c.live, lambda lv: lv.inference_count == 3, "three inferences")
        assert sensor.seq == blocks + 3
        assert not math.isnan(live.prediction)
        assert len(live.scores) == 3 and abs(live.scores.sum() - 1) < 1e-5
        assert live.features.shape == (2,) and live.stats.count == 3
        assert np.all(np.isfinite(live.stats.mean))
        wave = c.waveform()
        assert wave.seq == sensor.seq and wave.samples.shape == (1, 64)
        assert wave.sample_rate == 2000.0
        assert np.array_equal(wave.samples, sensor.current[1])
    out2 = flash_package(controller.endpoint, p2, policy=PATIENT, signer=OPERATOR)
    assert out2.ok and out2.status.active_slot == "B" and out2.status.active.version == 2
    st = rollback(controller.endpoint, PATIENT, signer=OPERATOR)
    assert st.state is State.ACTIVE and st.active.sha256 == out.package_sha256
    assert st.active_slot == "A"


def test_uncompressed_and_small_chunks_give_the_same_result(controller, kit):
    p1 = package(kit, 1)
    out = flash_package(controller.endpoint, p1, policy=PATIENT,
                        options=FlashOptions(compress=False, chunk_size=100), signer=OPERATOR)
    assert out.ok and not out.compressed and out.chunk_size == 100
    assert out.chunks == math.ceil(out.package_bytes / 100)


def test_a_second_flash_of_the_same_counter_is_refused_by_the_device(controller, kit):
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    replay = package(kit, 9, counter=1)
    with pytest.raises(FlashFailed, match=r"package refused \(counter\)") as info:
        flash_package(controller.endpoint, replay, policy=PATIENT, signer=OPERATOR)
    assert info.value.status.active.version == 1


def test_fit_check_names_what_does_not_fit(controller, kit):
    ident = Identity(1, Capability(31), 236, 50_000, 9600, 60, 600, 60, 128, 16, 2048, HW)
    path = package(kit, 1, pad=40_000)
    facts = PackageFacts.read(path)
    plan = plan_transfer(path.read_bytes(), ident, Endpoint.rtu("/dev/null", 9600),
                         compress=False)
    with pytest.raises(DoesNotFit) as info:
        check_fit(plan, ident, facts)
    assert "at most 50000" in str(info.value) and "would take about" in str(info.value)
    other = Identity(1, Capability(31), 236, 10**7, 0, 3600, 600, 60, 128, 16, 2048, "other-hw")
    with pytest.raises(DoesNotFit, match="other-hw"):
        check_fit(plan_transfer(path.read_bytes(), other, controller.endpoint), other, facts)
    with pytest.raises(DoesNotFit, match="hardware"):
        flash_package(controller.endpoint, package(kit, 1, hardware="other-hw"), policy=PATIENT,
            signer=OPERATOR)


def test_cancel_drops_the_transfer_and_keeps_the_old_model(controller, kit):
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    token = CancelToken()

    def progress(fraction, message):
        if fraction > 0.3:
            token.cancel()
    with pytest.raises(FlashCancelled) as info:
        flash_package(controller.endpoint, package(kit, 2, pad=20_000), policy=PATIENT,
                      options=FlashOptions(compress=False), progress=progress, cancel=token,
                          signer=OPERATOR)
    st = info.value.status
    assert st.state is State.ACTIVE and st.active.version == 1 and st.transfer_total == 0


def test_repeated_command_block_is_not_run_twice(controller, kit):
    with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
        regs_before = c.status()
        written: list[list[int]] = []
        write = c.link.write

        def keep(address, values, **kw):
            written.append(list(values))
            return write(address, values, **kw)
        c.link.write = keep  # type: ignore[method-assign]
        c.send(Command.BEGIN, arg0=10, arg1=10, chunk_size=4, sha256="11" * 32)
        c.write_chunk(0, b"abcd", __import__("zlib").crc32(b"abcd"))
        # The same block again (the master lost the answer): the transfer is not restarted,
        # and the proof, whose challenge is used, is not refused either.
        block = written[0]
        assert len(block) == r.COMMAND_COUNT
        write(0, block)
        # A holding-register read never shows the proof or the session.
        shown = c.link.read_holding(0, r.COMMAND_COUNT)
        assert shown[:2] == block[:2] and not any(shown[24:84])
        st = c.status()
        assert st.state is State.RECEIVING and st.acked_offset == 4
        assert regs_before.boot_count == st.boot_count


def test_bad_requests_get_decoded_reasons(controller):
    with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
        with pytest.raises(DeviceRefused, match="exception 04.*nothing to COMMIT"):
            c.send(Command.COMMIT)
        with pytest.raises(DeviceRefused, match="exception 02"):
            c.link.write(50, [1, 2])
        with pytest.raises(DeviceRefused, match="exception 03"):
            c.link.write(0, [99])
        block = [int(Command.ABORT), 1] + [0] * 24  # CRC-32 missing
        with pytest.raises(DeviceRefused, match="exception 03"):
            c.link.write(0, block)
        with pytest.raises(DeviceRefused, match="exception 04.*no transfer"):
            c.send(Command.ABORT)
            c.write_chunk(0, b"xy", 0)
        assert c.status().last_error is ErrorCode.BAD_STATE


def test_scan_reports_controllers_and_failures(controller):
    dead = Endpoint.tcp("127.0.0.1", 1)
    found, missing = scan([controller.endpoint, dead])
    assert found.found and found.identity.hardware_id == HW and found.status is not None
    assert not missing.found and "cannot connect" in missing.error


def test_a_modbus_device_that_is_not_a_controller(kit):
    from app.devices.sim.simulator import ModbusSimulator

    with ModbusSimulator() as sim:
        port = sim.start_tcp()
        with ControllerClient.open(Endpoint.tcp("127.0.0.1", port), PATIENT,
            signer=OPERATOR) as c, \
                pytest.raises((ProtocolError, DeviceRefused)):
            c.identity()


def test_the_link_is_closed_after_a_flash(controller, kit):
    flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    plain = ModbusTcpClient("127.0.0.1", port=controller.endpoint.port, timeout=1, retries=0)
    assert plain.connect()
    assert plain.read_input_registers(0, count=2, device_id=1).registers == [0x504C, 0x4D4C]
    plain.close()
    with pytest.raises(LinkLost), ControllerClient.open(Endpoint.tcp("127.0.0.1", 1),
                                                        PATIENT, signer=OPERATOR) as c:
        c.status()
