"""T16: the link is cut after chunk k, for k across the whole transfer: the controller keeps
its old model, the flash resumes from the acknowledged chunk without restarting the app."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from app.devices.controller.server import serve_serial
from app.devices.flash import Endpoint, FlashOptions, LinkLost, RetryPolicy, flash_package
from app.devices.protocol.codes import State
from app.devices.sim.linesim import LineSimulator
from tests.devices.conftest import FAST
from tests.devices.kit import make_runtime, package

OPTS = FlashOptions(compress=False, max_resumes=20, resume_pause_s=0.02, readback_every=4)


def _chunks(path) -> int:
    return -(-path.stat().st_size // 236)


def test_cut_after_every_chunk_resumes(controller, kit):
    assert flash_package(controller.endpoint, package(kit, 1), policy=FAST).ok
    n = _chunks(package(kit, 2))
    assert n >= 10
    for k in range(1, n + 1):
        version = k + 1
        path = package(kit, version)
        faults = controller.faults
        faults.cut_after_chunk, faults.cut_before, faults.down_s = k, k % 2 == 0, 0.05
        out = flash_package(controller.endpoint, path, policy=FAST, options=OPTS)
        assert out.ok and out.status.active.version == version, k
        assert out.resumes + out.link.reconnects >= 1, k
        # Resumed, not restarted: at most the cut chunk and one read-back window again.
        assert out.chunks_sent <= out.chunks + OPTS.readback_every, k


def test_link_down_longer_than_the_retries_fails_then_the_next_flash_resumes(controller, kit):
    first = flash_package(controller.endpoint, package(kit, 1), policy=FAST)
    path = package(kit, 2, pad=2000)
    n = _chunks(path)
    k = n // 2
    faults = controller.faults
    faults.cut_after_chunk, faults.down_s = k, 1.0
    rt = controller.runtime
    t0 = time.monotonic()
    with pytest.raises(LinkLost) as info:
        flash_package(controller.endpoint, path, policy=FAST,
                      options=replace(OPTS, max_resumes=1, readback_every=1000))
    elapsed = time.monotonic() - t0
    # Bounded: two bursts of (1 + 2 retries) lost requests and one pause, then a clear error.
    assert elapsed < 1.0, elapsed
    assert "gave up after 1 resumes" in str(info.value) and info.value.step == "transfer"
    # Meanwhile the controller runs its old model and keeps the chunks it acknowledged.
    m = rt.machine
    assert m.state is State.RECEIVING and m.transfer.acked == k * 236
    assert m.disk.slots[m.disk.active].sha256 == first.package_sha256
    count = rt.inference_count
    deadline = time.monotonic() + 3
    while rt.inference_count == count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert rt.inference_count > count
    while faults.down:
        time.sleep(0.05)
    out = flash_package(controller.endpoint, path, policy=FAST, options=OPTS)
    assert out.ok and out.chunks_sent == n - k and out.status.active.version == 2


def test_serial_line_cut_mid_transfer_resumes(kit, tmp_path):
    policy = RetryPolicy(timeout_s=0.15, timeout_retries=1, backoff_s=0.01)
    rt = make_runtime(kit, tmp_path / "rtu", link_baud=115200)
    with LineSimulator(115200) as line:
        server = serve_serial(rt, line.device_port, 115200)
        try:
            ep = Endpoint.rtu(line.client_port, 115200)
            assert flash_package(ep, package(kit, 1), policy=policy).ok
            path = package(kit, 2, pad=800)

            def cut_then_restore() -> None:
                time.sleep(0.15)
                line.faults.cut = True
                time.sleep(0.6)
                line.faults.cut = False
            cutter = threading.Thread(target=cut_then_restore, daemon=True)
            cutter.start()
            out = flash_package(ep, path, policy=policy, options=OPTS)
            cutter.join()
            assert out.ok and out.status.active.version == 2 and out.resumes >= 1
            assert out.chunks_sent <= out.chunks + OPTS.readback_every
            assert line.stats.dropped > 0
        finally:
            server.stop()
            rt.stop()
