"""T22: when the controller's staged bytes differ from the package, it never activates them
and says "verification failed at chunk k"; bad packages and self-tests never activate."""

from __future__ import annotations

import hashlib
import time
import zlib

import pytest

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
from tests.devices.conftest import FAST
from tests.devices.kit import package
from tests.packages.kit import Kit

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


def _send_all(c: ControllerClient, data: bytes, size: int = 236, sha: str | None = None) -> None:
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
    assert flash_package(controller.endpoint, package(kit, 1), policy=FAST).ok
    corrupt_chunk(k)
    with pytest.raises(VerificationFailed, match=f"verification failed at chunk {k}:") as info:
        flash_package(controller.endpoint, package(kit, 2, pad=1000), policy=FAST,
                      options=NO_ZLIB)
    assert info.value.chunk == k
    with ControllerClient.open(controller.endpoint, FAST) as c:
        _still_old(c)


@pytest.mark.parametrize("k", [0, 7])
def test_the_device_names_the_chunk_when_verifying(controller, kit, corrupt_chunk, k):
    assert flash_package(controller.endpoint, package(kit, 1), policy=FAST).ok
    corrupt_chunk(k)
    data = package(kit, 2, pad=1000).read_bytes()
    with ControllerClient.open(controller.endpoint, FAST) as c:
        _send_all(c, data)
        with pytest.raises(FlashFailed) as info:
            c.run(Command.VERIFY, 10)
        st = info.value.status
        assert st.last_error is ErrorCode.VERIFY_HASH and st.error_chunk == k
        assert st.error_text.startswith(f"verification failed at chunk {k}")
        assert st.state is State.ERROR
        with pytest.raises(DeviceRefused, match="exception 04.*needs a self-tested"):
            c.send(Command.ACTIVATE)
        _still_old(c)


def test_a_hash_that_does_not_match_the_bytes_is_never_activated(controller, kit):
    assert flash_package(controller.endpoint, package(kit, 1), policy=FAST).ok
    data = package(kit, 2).read_bytes()
    with ControllerClient.open(controller.endpoint, FAST) as c:
        _send_all(c, data, sha="00" * 31 + "01")
        with pytest.raises(FlashFailed, match="SHA-256 differs from BEGIN") as info:
            c.run(Command.VERIFY, 10)
        assert info.value.status.last_error is ErrorCode.VERIFY_HASH
        _still_old(c)


def test_a_package_signed_by_unknown_keys_is_refused_on_the_device(controller, kit, tmp_path):
    assert flash_package(controller.endpoint, package(kit, 1), policy=FAST).ok
    stranger = Kit(root=tmp_path / "stranger")
    with pytest.raises(FlashFailed, match=r"package refused \(unknown_key\)"):
        flash_package(controller.endpoint, package(stranger, 2), policy=FAST)
    with ControllerClient.open(controller.endpoint, FAST) as c:
        _still_old(c)


def test_a_failed_self_test_is_never_activated(controller, kit):
    assert flash_package(controller.endpoint, package(kit, 1), policy=FAST).ok
    with pytest.raises(FlashFailed, match="SELF_TEST failed.*golden input 0") as info:
        flash_package(controller.endpoint, package(kit, 2, bad_golden=True), policy=FAST)
    assert info.value.status.last_error is ErrorCode.SELF_TEST_FAILED
    with ControllerClient.open(controller.endpoint, FAST) as c:
        _still_old(c)


def test_no_commit_before_the_deadline_reverts(controller, kit):
    first = flash_package(controller.endpoint, package(kit, 1), policy=FAST)
    data = package(kit, 2).read_bytes()
    with ControllerClient.open(controller.endpoint, FAST) as c:
        _send_all(c, data)
        c.run(Command.VERIFY, 10)
        c.run(Command.SELF_TEST, 10)
        st = c.run(Command.ACTIVATE, 10, arg0=1)
        assert st.state is State.ACTIVE_UNCONFIRMED and st.active.version == 2
        assert st.commit_remaining_s == 1
        time.sleep(1.3)
        st = c.status()
        assert st.state is State.ACTIVE and st.active.sha256 == first.package_sha256
        assert st.last_error is ErrorCode.COMMIT_TIMEOUT
        # The reverted slot is gone: a rollback has nothing to go back to.
        with pytest.raises(Exception, match="no previous model"):
            c.send(Command.ROLLBACK)


def test_a_plc_can_roll_back_with_one_register_write(controller, kit):
    first = flash_package(controller.endpoint, package(kit, 1), policy=FAST)
    assert flash_package(controller.endpoint, package(kit, 2), policy=FAST).ok
    with ControllerClient.open(controller.endpoint, FAST) as c:
        c.link.write_one(0, int(Command.ROLLBACK))
        deadline = time.monotonic() + 5
        while (st := c.status()).running and time.monotonic() < deadline:
            time.sleep(0.01)
        assert st.active.sha256 == first.package_sha256 and st.state is State.ACTIVE


def test_a_refused_package_leaves_the_rollback_target_alone(controller, kit, tmp_path):
    first = flash_package(controller.endpoint, package(kit, 1), policy=FAST)
    assert flash_package(controller.endpoint, package(kit, 2), policy=FAST).ok
    stranger = Kit(root=tmp_path / "stranger")
    with pytest.raises(FlashFailed, match="unknown_key"):
        flash_package(controller.endpoint, package(stranger, 3), policy=FAST)
    with ControllerClient.open(controller.endpoint, FAST) as c:
        st = c.rollback()
    assert st.state is State.ACTIVE and st.active.sha256 == first.package_sha256

