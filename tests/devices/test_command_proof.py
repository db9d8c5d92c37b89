"""Issue 15.4 on the reference runtime, through a plain pymodbus master: without the
workstation's signed, single-use proof for this device no command is obeyed (function 6,
unsigned, stale, replayed, for another device, an untrusted or non-operator key, a tampered
block); one transfer session at a time, owned by the master whose BEGIN opened it; every
refusal counted and kept, durably, for the workstation to audit."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator
from dataclasses import replace

import pytest
from pymodbus.client import ModbusTcpClient

from app.devices.flash import (
    CommandRefused,
    ControllerClient,
    FlashOptions,
    ProtocolError,
    flash_package,
    read_security,
)
from app.devices.protocol import registers as r
from app.devices.protocol.codes import Command, ErrorCode, SessionState, State
from app.devices.protocol.proof import CommandBlock
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, KeySigner, package, trust_operator, wait_for
from tests.packages.kit import HW

#: A second workstation, trusted as an operator's too: a legitimate but other master.
OTHER = KeySigner()


@pytest.fixture
def plain(controller) -> Iterator[ModbusTcpClient]:
    client = ModbusTcpClient("127.0.0.1", port=controller.endpoint.port, timeout=10, retries=0)
    assert client.connect()
    yield client
    client.close()


def nonce(plain: ModbusTcpClient) -> str:
    regs = plain.read_input_registers(r.SECURITY_BASE, count=r.SECURITY_COUNT,
                                      device_id=1).registers
    return r.decode(r.FIELDS["nonce"], regs, r.SECURITY_BASE)


def security(plain: ModbusTcpClient) -> dict:
    regs = plain.read_input_registers(r.SECURITY_BASE, count=r.SECURITY_COUNT,
                                      device_id=1).registers
    assert r.sealed(regs, r.FIELDS["security_crc"], r.SECURITY_BASE)
    return {f.name: r.decode(f, regs, r.SECURITY_BASE) for f in r.SECURITY}


def rollback_block(plain: ModbusTcpClient, signer=OPERATOR, **kw) -> CommandBlock:
    block = CommandBlock(int(Command.ROLLBACK), kw.pop("seq", 901), nonce=nonce(plain),
                         hardware_id=HW, **kw)
    return block.signed_by(signer)


def refused(plain: ModbusTcpClient, regs: list[int], code: ErrorCode) -> None:
    before = security(plain)["refused_count"]
    answer = plain.write_registers(0, regs, device_id=1)
    assert answer.isError() and answer.exception_code == 3, answer
    after = security(plain)
    assert after["refused_count"] == before + 1
    assert after["last_refusal_code"] == code, after["last_refusal_text"]


@pytest.fixture
def two_models(controller, kit):
    first = flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    second = flash_package(controller.endpoint, package(kit, 2), policy=PATIENT,
                           signer=OPERATOR)
    return first, second


def _runs(controller, outcome) -> bool:
    m = controller.runtime.machine
    return not m.busy and m.disk.slots[m.disk.active].sha256 == outcome.package_sha256


def test_no_proof_no_rollback_abort_or_begin(controller, plain, two_models):
    _, second = two_models
    for code in (Command.ROLLBACK, Command.ABORT, Command.BEGIN):
        answer = plain.write_register(0, int(code), device_id=1)  # function 6
        assert answer.isError() and answer.exception_code == 3
        refused(plain, CommandBlock(int(code), 5, hardware_id=HW).registers(),
                ErrorCode.PROOF_MISSING)
    assert _runs(controller, second) and controller.runtime.machine.state is State.ACTIVE
    sec = security(plain)
    assert sec["refused_count"] == 6 and sec["last_refusal_function"] == 16
    assert controller.runtime.machine.events.newest == 4  # two flashes, no rollback


def test_a_replayed_proof_is_refused(controller, plain, two_models):
    first, second = two_models
    block = rollback_block(plain)
    assert not plain.write_registers(0, block.registers(), device_id=1).isError()
    wait_for(lambda: _runs(controller, first), bool, "the signed rollback")
    # The same bytes again are the last block: answered as before, not run again ...
    assert not plain.write_registers(0, block.registers(), device_id=1).isError()
    # ... and once another command ran, they are a replay.
    with ControllerClient.open(controller.endpoint, PATIENT, OPERATOR) as c:
        c.rollback()
    assert _runs(controller, second)
    refused(plain, block.registers(), ErrorCode.PROOF_REPLAYED)
    assert _runs(controller, second)


def test_a_proof_on_an_old_challenge_is_stale(controller, plain, two_models):
    _, second = two_models
    old = rollback_block(plain)
    with ControllerClient.open(controller.endpoint, PATIENT, OPERATOR) as c:
        c.send(Command.RESET_STATS)  # consumes the challenge the old proof answers ...
    fresh_nonce = nonce(plain)
    assert fresh_nonce != old.nonce
    stale = replace(old, nonce="ab" * 16).signed_by(OPERATOR)  # ... or one never issued
    refused(plain, stale.registers(), ErrorCode.PROOF_STALE)
    assert _runs(controller, second)


def test_a_proof_for_another_hardware_id_is_refused(controller, plain, two_models):
    _, second = two_models
    # Signed properly, on this device's current challenge, but for another controller.
    other = CommandBlock(int(Command.ROLLBACK), 3, nonce=nonce(plain), hardware_id="ctrl-b7")
    refused(plain, other.signed_by(OPERATOR).registers(), ErrorCode.PROOF_WRONG_DEVICE)
    assert "ctrl-b7" in security(plain)["last_refusal_text"]
    assert _runs(controller, second)


def test_untrusted_and_non_operator_keys_and_tampering_are_refused(controller, plain, kit,
                                                                    two_models):
    _, second = two_models
    stranger = KeySigner()
    refused(plain, rollback_block(plain, signer=stranger).registers(),
            ErrorCode.PROOF_UNTRUSTED_KEY)
    assert security(plain)["last_refusal_key"] == stranger.key_id
    # The engineer's package key is in the trust file, but engineers do not deploy.
    engineer = KeySigner(kit.engineer)
    refused(plain, rollback_block(plain, signer=engineer).registers(),
            ErrorCode.PROOF_UNTRUSTED_KEY)
    assert "may not command" in security(plain)["last_refusal_text"]
    # A signed ABORT turned into a ROLLBACK on the way (the CRC-32 made right again).
    block = CommandBlock(int(Command.ABORT), 4, nonce=nonce(plain), hardware_id=HW
                         ).signed_by(OPERATOR)
    refused(plain, replace(block, command=int(Command.ROLLBACK)).registers(),
            ErrorCode.PROOF_BAD_SIGNATURE)
    assert _runs(controller, second)


def test_one_session_at_a_time_owned_by_its_master(controller_factory, kit):
    trust_operator(kit, OTHER, "second-workstation")
    controller = controller_factory()
    data = package(kit, 1).read_bytes()
    ep = controller.endpoint
    size = 200
    with ControllerClient.open(ep, PATIENT, OPERATOR) as owner, \
            ControllerClient.open(ep, PATIENT, OTHER) as other:
        owner.send(Command.BEGIN, arg0=len(data), arg1=len(data), chunk_size=size,
                   sha256=_sha(data))
        owner.write_chunk(0, data[:size], _crc(data[:size]))
        sec = owner.security()
        assert sec.session_state is SessionState.LIVE and sec.session_key == OPERATOR.key_id
        # A second master, trusted and signing properly, may not BEGIN over it ...
        with pytest.raises(CommandRefused, match="session_busy"):
            other.send(Command.BEGIN, arg0=len(data), arg1=len(data), chunk_size=size,
                       sha256=_sha(data))
        # ... nor ABORT it, nor write its chunks (it does not know the session's id).
        with pytest.raises(CommandRefused, match="session_busy"):
            other.send(Command.ABORT)
        other.session = 0x1234
        with pytest.raises(Exception, match="exception 03"):
            other.write_chunk(size, data[size:2 * size], _crc(data[size:2 * size]))
        assert owner.security().last_refusal_code == ErrorCode.SESSION_MISMATCH
        assert owner.status().acked_offset == size and owner.status().state is State.RECEIVING
        # Abandoned past the takeover time, the session may be taken over.
        kit.clock.advance(controller.runtime.config.session_takeover_s + 1)
        assert other.security().session_state is SessionState.ABANDONED
        other.send(Command.BEGIN, arg0=len(data), arg1=len(data), chunk_size=size,
                   sha256=_sha(data))
        assert other.security().session_key == OTHER.key_id
        assert other.status().acked_offset == 0  # a new transfer, the old one dropped
        # The first owner's session is over: its chunks and commands are refused.
        with pytest.raises(Exception, match="exception 03"):
            owner.write_chunk(size, data[size:2 * size], _crc(data[size:2 * size]))
        other.send(Command.ABORT)
        assert other.security().session_state is SessionState.NONE


def test_a_later_flash_of_the_same_package_resumes_the_owners_session(controller, kit):
    """A new client process of the same workstation (the same key) resumes its stream;
    the controller keeps the bytes it acknowledged. (Another stream from the same key would
    begin anew: the session is the key's.)"""
    data = package(kit, 1).read_bytes()
    with ControllerClient.open(controller.endpoint, PATIENT, OPERATOR) as first:
        first.send(Command.BEGIN, arg0=len(data), arg1=len(data), chunk_size=r.MAX_CHUNK,
                   sha256=_sha(data))
        first.write_chunk(0, data[:r.MAX_CHUNK], _crc(data[:r.MAX_CHUNK]))
    out = flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR,
                        options=FlashOptions(compress=False))
    assert out.ok and out.chunks_sent == out.chunks - 1


def test_refusals_are_kept_across_a_restart(controller_factory, kit, tmp_path):
    controller = controller_factory("kept")
    with ControllerClient.open(controller.endpoint, PATIENT, OPERATOR) as c, \
            pytest.raises(Exception, match="exception 03"):
        c.link.write_one(0, int(Command.ROLLBACK))
    controller.server.stop()
    controller.runtime.stop()
    again = controller_factory("kept")
    sec = read_security(again.endpoint, PATIENT)
    assert sec.refused_count == 1 and sec.last_refusal_code == ErrorCode.PROOF_MISSING
    assert sec.last_refusal_age_s == 0xFFFF  # before the reboot: its age is unknown


def test_the_client_refuses_a_protocol_1_controller(controller):
    controller.runtime.protocol_version = 1
    with ControllerClient.open(controller.endpoint, PATIENT, OPERATOR) as c, \
            pytest.raises(ProtocolError, match="speaks PlantML controller protocol 1, which "
                          "obeys unsigned commands"):
        c.identity()


def test_a_client_without_a_signer_sends_nothing(controller):
    with ControllerClient.open(controller.endpoint, PATIENT) as c, \
            pytest.raises(Exception, match="needs the workstation's signed proof"):
        c.send(Command.ROLLBACK)
    assert read_security(controller.endpoint, PATIENT).refused_count == 0


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _crc(data: bytes) -> int:
    return zlib.crc32(data)
