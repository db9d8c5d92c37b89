"""T17: a controller that stops answering: every request bounded, bounded retries, a clear
failure. T19: exceptions 01-06 at random steps: 05/06 retried with back-off up to a limit,
01-04 abort with a decoded reason; the old model keeps running either way."""

from __future__ import annotations

import random
import time

import pytest

from app.devices.flash import (
    ControllerClient,
    DeviceBusy,
    DeviceRefused,
    FlashOptions,
    LinkLost,
    LinkTimeout,
    flash_package,
    read_status,
)
from app.devices.protocol import registers as r
from app.devices.protocol.codes import State
from app.devices.protocol.registers import MAX_CHUNK
from app.fieldbus import describe_exception
from tests.devices.conftest import FAST, PATIENT
from tests.devices.kit import OPERATOR, package

#: Worst case of one request under FAST: (1 + retries) tries of up to two timeouts each,
#: plus room for a loaded machine to run the client late (a bound, not a measurement).
BOUND = (1 + FAST.timeout_retries) * 2 * FAST.timeout_s + 2.0
TRIES = 1 + FAST.timeout_retries


def nth_request(n: int):
    """A fault match that fires on the n-th request from now (and the ones after it)."""
    seen = [0]

    def match(fc: int, address: int, count: int) -> bool:
        seen[0] += 1
        return seen[0] >= n
    return match


def nth_chunk(n: int):
    """A fault match that fires on the n-th transfer window write from now."""
    seen = [0]

    def match(fc: int, address: int, count: int) -> bool:
        seen[0] += fc == 16 and address == r.WINDOW_BASE
        return seen[0] >= n
    return match


def test_t17_a_silent_controller_bounds_every_request(controller):
    controller.faults.hang = True
    try:
        for _ in range(2):
            before = controller.server.requests
            t0 = time.monotonic()
            with pytest.raises(LinkTimeout, match="no answer within 0.3 s") as info:
                read_status(controller.endpoint, FAST)
            assert time.monotonic() - t0 < BOUND
            assert info.value.step == "status" and info.value.register == 100
            assert controller.server.requests - before == TRIES  # bounded retries
    finally:
        controller.server.release_hang()
    assert read_status(controller.endpoint, PATIENT).state is State.IDLE


def test_t17_a_write_that_blocks_mid_flash_fails_clearly_then_resumes(controller, kit):
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    path = package(kit, 2, pad=3000)
    opts = FlashOptions(compress=False, max_resumes=1, resume_pause_s=0.01)
    # Silent from the 10th chunk on: the write blocks at a known chunk, whatever the speed.
    controller.faults.hang_from = nth_chunk(10)
    before = controller.server.requests
    t0 = time.monotonic()
    with pytest.raises((LinkTimeout, LinkLost)) as info:
        flash_package(controller.endpoint, path, policy=FAST, options=opts, signer=OPERATOR)
    assert time.monotonic() - t0 < 2 * BOUND + 1.0  # two bounded bursts and one pause
    assert "gave up after 1 resumes" in str(info.value)
    m = controller.runtime.machine
    assert m.state is State.RECEIVING and m.transfer.acked == 9 * MAX_CHUNK
    assert m.disk.slots[m.disk.active].model_version == 1
    controller.server.release_hang()
    out = flash_package(controller.endpoint, path, policy=PATIENT, options=opts, signer=OPERATOR)
    assert out.ok and out.status.active.version == 2 and out.chunks_sent == out.chunks - 9
    assert controller.server.requests > before


@pytest.mark.parametrize("code", [5, 6])
def test_t19_busy_is_retried_with_back_off(controller, kit, code):
    rng = random.Random(code)
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    for version in (2, 3, 4):
        controller.faults.inject(code, times=PATIENT.busy_retries,
                                 match=nth_request(rng.randint(1, 25)))
        t0 = time.monotonic()
        out = flash_package(controller.endpoint, package(kit, version), policy=PATIENT,
            signer=OPERATOR)
        assert controller.faults.pending == 0
        assert out.ok and out.status.active.version == version
        assert out.link.busy_retries == PATIENT.busy_retries
        assert out.link.exceptions == {code: PATIENT.busy_retries}
        backoff = sum(PATIENT.backoff(i) for i in range(PATIENT.busy_retries))
        assert time.monotonic() - t0 >= backoff


@pytest.mark.parametrize("code", [5, 6])
def test_t19_busy_past_the_limit_is_a_clear_failure(controller, kit, code):
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    # Busy from a request during the transfer on: the abort cannot get through either.
    controller.faults.inject(code, times=1000, match=nth_request(random.Random(code).randint(
        1, 10)))
    with pytest.raises(DeviceBusy, match=f"exception 0{code}.*after 5 tries") as info:
        flash_package(controller.endpoint, package(kit, 2), policy=PATIENT, signer=OPERATOR)
    assert info.value.exception_code == code
    controller.faults.clear()
    st = read_status(controller.endpoint, PATIENT)
    assert st.active.version == 1 and st.state in (State.RECEIVING, State.STAGED)


@pytest.mark.parametrize("code", [1, 2, 3, 4])
def test_t19_other_exceptions_abort_with_a_decoded_reason(controller, kit, code):
    rng = random.Random(10 + code)
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    for _ in range(3):
        controller.faults.clear()
        controller.faults.inject(code, times=1, match=nth_request(rng.randint(1, 25)))
        with pytest.raises(DeviceRefused) as info:
            flash_package(controller.endpoint, package(kit, 2), policy=PATIENT, signer=OPERATOR)
        assert controller.faults.pending == 0
        assert describe_exception(code) in str(info.value)
        assert info.value.exception_code == code and info.value.step
        with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
            st = c.status()
        # Refused at whatever step: never activated, the old model runs, nothing half-done.
        assert st.active.version == 1 and st.state is State.ACTIVE
    assert flash_package(controller.endpoint, package(kit, 2), policy=PATIENT, signer=OPERATOR).ok
