"""T22: when the controller's staged bytes differ from the package, it never activates them
and says "verification failed at chunk k"; bad packages and self-tests never activate."""

from __future__ import annotations

import hashlib
import zlib

import pytest

from app.core.clock import FakeClock
from app.devices.controller import transfer as transfer_module
from app.devices.flash import (
    ControllerClient,
    DeviceRefused,
    FlashFailed,
    FlashOptions,
    VerificationFailed,
    flash_package,
)
from app.devices.protocol.codes import Command, ErrorCode, State
from app.devices.protocol.registers import MAX_CHUNK
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, PATIENCE_S, package, wait_for
from tests.packages.kit import NOW, Kit

NO_ZLIB = FlashOptions(compress=False)


@pytest.fixture
def corrupt_chunk(monkeypatch):
    """Make the controller's storage flip a bit of chunk k right after storing it."""
    def arm(k: int) -> None:
        original = transfer_module.Transfer.accept

        def accept(self, offset, data, crc):
            original(self, offset, data, crc)
            if offset == k * self.chunk_size:
                self.buf[offset + 3] ^= 0x10
        monkeypatch.setattr(transfer_module.Transfer, "accept", accept)
    return arm


def _send_all(c: ControllerClient, data: bytes, size: int = MAX_CHUNK,
              sha: str | None = None) -> None:
    c.send(Command.BEGIN, arg0=len(data), arg1=len(data), chunk_size=size,
           sha256=sha or hashlib.sha256(data).hexdigest())
    for off in range(0, len(data), size):
        part = data[off:off + size]
        c.write_chunk(off, part, zlib.crc32(part))


def _still_old(c: ControllerClient, version: int = 1) -> None:
    st = c.status()
    assert st.active is not None and st.active.version == version
    assert st.state in (State.ACTIVE, State.ERROR)


@pytest.mark.parametrize("k", [0, 5, 11])
def test_read_back_names_the_chunk_and_nothing_is_activated(controller, kit, corrupt_chunk, k):
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    corrupt_chunk(k)
    with pytest.raises(VerificationFailed, match=f"verification failed at chunk {k}:") as info:
        flash_package(controller.endpoint, package(kit, 2, pad=1000), policy=PATIENT,
                      options=NO_ZLIB, signer=OPERATOR)
    assert info.value.chunk == k
    with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
        _still_old(c)


@pytest.mark.parametrize("k", [0, 7])
def test_the_device_names_the_chunk_when_verifying(controller, kit, corrupt_chunk, k):
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    corrupt_chunk(k)
    data = package(kit, 2, pad=1000).read_bytes()
    with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
        _send_all(c, data)
        with pytest.raises(FlashFailed) as info:
            c.run(Command.VERIFY, PATIENCE_S)
        st = info.value.status
        assert st.last_error is ErrorCode.VERIFY_HASH and st.error_chunk == k
        assert st.error_text.startswith(f"verification failed at chunk {k}")
        assert st.state is State.ERROR
        with pytest.raises(DeviceRefused, match="exception 04.*needs a self-tested"):
            c.send(Command.ACTIVATE)
        _still_old(c)


def test_a_hash_that_does_not_match_the_bytes_is_never_activated(controller, kit):
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    data = package(kit, 2).read_bytes()
    with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
        _send_all(c, data, sha="00" * 31 + "01")
        with pytest.raises(FlashFailed, match="SHA-256 differs from BEGIN") as info:
            c.run(Command.VERIFY, PATIENCE_S)
        assert info.value.status.last_error is ErrorCode.VERIFY_HASH
        _still_old(c)


def test_a_package_signed_by_unknown_keys_is_refused_on_the_device(controller, kit, tmp_path):
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    stranger = Kit(root=tmp_path / "stranger")
    with pytest.raises(FlashFailed, match=r"package refused \(unknown_key\)"):
        flash_package(controller.endpoint, package(stranger, 2), policy=PATIENT, signer=OPERATOR)
    with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
        _still_old(c)


def test_a_failed_self_test_is_never_activated(controller, kit):
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    with pytest.raises(FlashFailed, match="SELF_TEST failed.*golden input 0") as info:
        flash_package(controller.endpoint, package(kit, 2, bad_golden=True), policy=PATIENT,
            signer=OPERATOR)
    assert info.value.status.last_error is ErrorCode.SELF_TEST_FAILED
    with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
        _still_old(c)


def test_no_commit_before_the_deadline_reverts(controller_factory, kit):
    # Time moves only when the test moves it: the deadline passes because the clock says so,
    # not because the machine was slow (or fast) enough.
    clock = FakeClock(NOW, frozen=True)
    controller = controller_factory(clock=clock)
    first = flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    data = package(kit, 2).read_bytes()
    with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
        _send_all(c, data)
        c.run(Command.VERIFY, PATIENCE_S)
        c.run(Command.SELF_TEST, PATIENCE_S)
        st = c.run(Command.ACTIVATE, PATIENCE_S, arg0=2)
        assert st.state is State.ACTIVE_UNCONFIRMED and st.active.version == 2
        assert st.commit_remaining_s == 2
        clock.advance(1.5)
        st = c.status()
        assert st.state is State.ACTIVE_UNCONFIRMED and st.commit_remaining_s == 1
        clock.advance(1.0)
        st = wait_for(c.status, lambda s: s.state is not State.ACTIVE_UNCONFIRMED,
                      "the revert after the deadline")
        assert st.state is State.ACTIVE and st.active.sha256 == first.package_sha256
        assert st.last_error is ErrorCode.COMMIT_TIMEOUT and st.commit_remaining_s == 0
        # The reverted slot is gone: a rollback has nothing to go back to.
        with pytest.raises(Exception, match="no previous model"):
            c.send(Command.ROLLBACK)


def test_a_commit_in_time_holds_however_long_the_test_takes(controller_factory, kit):
    clock = FakeClock(NOW, frozen=True)
    controller = controller_factory(clock=clock)
    assert flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
        _send_all(c, package(kit, 2).read_bytes())
        c.run(Command.VERIFY, PATIENCE_S)
        c.run(Command.SELF_TEST, PATIENCE_S)
        c.run(Command.ACTIVATE, PATIENCE_S, arg0=1)
        clock.advance(0.9)
        st = c.run(Command.COMMIT, PATIENCE_S)
        clock.advance(3600)
        assert c.status().state is State.ACTIVE
    assert st.state is State.ACTIVE and st.active.version == 2 and st.commit_remaining_s == 0


def test_a_plc_cannot_roll_back_with_one_register_write(controller, kit):
    # Protocol 2 (issue 15.4): one function-6 write is no proof; the signed one is obeyed.
    first = flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    second = flash_package(controller.endpoint, package(kit, 2), policy=PATIENT, signer=OPERATOR)
    with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
        with pytest.raises(DeviceRefused, match="exception 03"):
            c.link.write_one(0, int(Command.ROLLBACK))
        st = c.status()
        assert st.active.sha256 == second.package_sha256 and st.state is State.ACTIVE
        assert c.security().last_refusal_code == ErrorCode.PROOF_MISSING
        st = c.rollback()
        assert st.active.sha256 == first.package_sha256 and st.state is State.ACTIVE


def test_a_refused_package_leaves_the_rollback_target_alone(controller, kit, tmp_path):
    first = flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    assert flash_package(controller.endpoint, package(kit, 2), policy=PATIENT, signer=OPERATOR).ok
    stranger = Kit(root=tmp_path / "stranger")
    with pytest.raises(FlashFailed, match="unknown_key"):
        flash_package(controller.endpoint, package(stranger, 3), policy=PATIENT, signer=OPERATOR)
    with ControllerClient.open(controller.endpoint, PATIENT, signer=OPERATOR) as c:
        st = c.rollback()
    assert st.state is State.ACTIVE and st.active.sha256 == first.package_sha256

