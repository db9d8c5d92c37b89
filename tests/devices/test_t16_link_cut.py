"""T16: the link is cut after chunk k, for k across the whole transfer: the controller keeps
its old model, the flash resumes from the acknowledged chunk without restarting the app."""

from __future__ import annotations

import logging
import math
import threading
from dataclasses import replace

import pytest

from app.devices.controller.server import serve_serial
from app.devices.flash import Endpoint, FlashOptions, LinkLost, RetryPolicy, flash_package
from app.devices.protocol.codes import State
from app.devices.protocol.registers import MAX_CHUNK
from app.devices.sim.linesim import LineSimulator
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, PATIENCE_S, make_runtime, package, wait_for

OPTS = FlashOptions(compress=False, max_resumes=20, resume_pause_s=0.02, readback_every=4)


def _chunks(path) -> int:
    return -(-path.stat().st_size // MAX_CHUNK)


def test_cut_after_every_chunk_resumes(controller, kit):
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    n = _chunks(package(kit, 2))
    assert n >= 10
    for k in range(1, n + 1):
        version = k + 1
        path = package(kit, version)
        faults = controller.faults
        faults.cut_after_chunk, faults.cut_before, faults.down_s = k, k % 2 == 0, 0.05
        out = flash_package(controller.endpoint, path, policy=PATIENT, options=OPTS,
            signer=OPERATOR)
        assert out.ok and out.status.active.version == version, k
        assert out.resumes + out.link.reconnects >= 1, k
        # Resumed, not restarted: at most the cut chunk and one read-back window again.
        assert out.chunks_sent <= out.chunks + OPTS.readback_every, k


def test_link_down_longer_than_the_retries_fails_then_the_next_flash_resumes(controller, kit):
    first = flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    path = package(kit, 2, pad=2000)
    n = _chunks(path)
    k = n // 2
    faults = controller.faults
    # Down from chunk k on until the test brings it back: how fast the client tries does
    # not decide whether it meets a dead link.
    faults.cut_after_chunk, faults.down_s = k, math.inf
    rt = controller.runtime
    with pytest.raises(LinkLost) as info:
        flash_package(controller.endpoint, path, policy=PATIENT,
                      options=replace(OPTS, max_resumes=1, readback_every=1000), signer=OPERATOR)
    assert "gave up after 1 resumes" in str(info.value) and info.value.step == "transfer"
    # Bounded: the cut chunk's retries, then after one pause the resume's status read and
    # its retries, then a clear error. Reset connections fail at once: no timeout waited.
    tries = 1 + PATIENT.timeout_retries
    assert faults.dropped == (tries - 1) + tries
    # Meanwhile the controller runs its old model and keeps the chunks it acknowledged.
    m = rt.machine
    assert m.state is State.RECEIVING and m.transfer.acked == k * MAX_CHUNK
    assert m.disk.slots[m.disk.active].sha256 == first.package_sha256
    count = rt.inference_count
    wait_for(lambda: rt.inference_count, lambda c: c > count, "an inference on the old model")
    faults.clear()  # the cable is back
    out = flash_package(controller.endpoint, path, policy=PATIENT, options=OPTS, signer=OPERATOR)
    assert out.ok and out.chunks_sent == n - k and out.status.active.version == 2


#: RTU has no reset: a cut line is only noticed by the timeout, so it is shorter than
#: PATIENT, yet long beside the few milliseconds an answer takes even on a loaded machine.
RTU_POLICY = RetryPolicy(timeout_s=1.0, timeout_retries=1, backoff_s=0.01)
class _Resumed(logging.Handler):
    """Set when the flash client logs that it lost the link and resumes."""

    def __init__(self) -> None:
        super().__init__()
        self.event = threading.Event()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("link lost during the transfer"):
            self.event.set()


def test_serial_line_cut_mid_transfer_resumes(kit, tmp_path):
    rt = make_runtime(kit, tmp_path / "rtu", link_baud=115200)
    resumed = _Resumed()
    client_log = logging.getLogger("app.devices.flash.client")
    client_log.addHandler(resumed)
    with LineSimulator(115200) as line:
        server = serve_serial(rt, line.device_port, 115200)
        try:
            ep = Endpoint.rtu(line.client_port, 115200)
            assert flash_package(ep, package(kit, 1), policy=RTU_POLICY, signer=OPERATOR).ok
            path = package(kit, 2, pad=800)

            def cut_then_restore() -> None:
                # Cut once chunks are flowing; restore once the client gave up on the lost
                # chunk and resumed: events, not moments.
                wait_for(lambda: rt.machine.transfer, lambda t: t is not None and
                         t.acked >= 3 * MAX_CHUNK, "three chunks acknowledged")
                line.faults.cut = True
                resumed.event.wait(PATIENCE_S)
                line.faults.cut = False
            cutter = threading.Thread(target=cut_then_restore, daemon=True)
            cutter.start()
            out = flash_package(ep, path, policy=RTU_POLICY, options=OPTS, signer=OPERATOR)
            cutter.join()
            assert resumed.event.is_set()
            assert out.ok and out.status.active.version == 2 and out.resumes >= 1
            assert out.chunks_sent <= out.chunks + OPTS.readback_every
            assert line.stats.dropped > 0
        finally:
            client_log.removeHandler(resumed)
            server.stop()
            rt.stop()
