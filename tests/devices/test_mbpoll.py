"""Any Modbus master can read a controller: mbpoll (Debian package mbpoll) reads the identity
and status blocks of the reference runtime over TCP. Since protocol 2 (issue 15.4) it cannot
roll it back: one write without the workstation's proof is refused and counted, a replayed
proof too; mbpoll carrying a proof the workstation signed on the current challenge is obeyed."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from app.devices.flash import ControllerClient, flash_package, start_shadow
from app.devices.protocol import registers as r
from app.devices.protocol.codes import Command, ErrorCode, ShadowState, State
from app.devices.protocol.proof import CommandBlock
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, package, wait_for
from tests.packages.kit import HW

MBPOLL = shutil.which("mbpoll")
pytestmark = pytest.mark.skipif(MBPOLL is None, reason="mbpoll is not installed "
                                "(apt-get install mbpoll)")


def run_mbpoll(port: int, *args: str) -> subprocess.CompletedProcess[str]:
    assert MBPOLL is not None
    return subprocess.run([MBPOLL, "-m", "tcp", "-a", "1", "-p", str(port), "-0", "-1", *args],
                          capture_output=True, text=True, timeout=20, check=False)


def mbpoll(port: int, *args: str) -> str:
    done = run_mbpoll(port, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def registers(out: str, start: int) -> list[int]:
    values = {int(a): int(v) for a, v in re.findall(r"^\[(\d+)\]:\s+(\d+)", out, re.M)}
    return [values[start + i] for i in range(len(values))]


def security(port: int) -> list[int]:
    return registers(mbpoll(port, "-t", "3", "-r", str(r.SECURITY_BASE), "-c",
                            str(r.SECURITY_COUNT), "127.0.0.1"), r.SECURITY_BASE)


def field(regs: list[int], name: str, base: int = r.SECURITY_BASE):
    return r.decode(r.FIELDS[name], regs, base)


def write_block(port: int, block: list[int]) -> subprocess.CompletedProcess[str]:
    """mbpoll writes the 86 registers with one function-16 request."""
    return run_mbpoll(port, "-t", "4", "-r", "0", "127.0.0.1", *map(str, block))


def test_mbpoll_reads_identity_and_status(controller, kit):
    first = flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    port = controller.endpoint.port
    ident = registers(mbpoll(port, "-t", "3", "-r", "0", "-c", str(r.IDENTITY_COUNT),
                             "127.0.0.1"), 0)
    assert ident[:2] == [0x504C, 0x4D4C] and ident[2] == r.PROTOCOL_VERSION == 3
    assert r.decode(r.FIELDS["hardware_id"], ident, 0) == HW
    assert r.sealed(ident, r.FIELDS["identity_crc"], 0)
    status = registers(mbpoll(port, "-t", "3", "-r", "100", "-c", str(r.STATUS_COUNT),
                              "127.0.0.1"), 100)
    assert r.decode(r.FIELDS["state"], status, 100) == State.ACTIVE
    assert r.decode(r.FIELDS["active_sha256"], status, 100) == first.package_sha256
    assert r.decode(r.FIELDS["active_name"], status, 100) == "bearing"


def test_mbpoll_cannot_roll_back_without_the_workstations_proof(controller, kit):
    flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    second = flash_package(controller.endpoint, package(kit, 2), policy=PATIENT,
                           signer=OPERATOR)
    port = controller.endpoint.port
    machine = controller.runtime.machine
    # Today's attack: one function-6 write of ROLLBACK into HR 0.
    done = run_mbpoll(port, "-t", "4", "-r", "0", "127.0.0.1", str(int(Command.ROLLBACK)))
    assert done.returncode != 0 and "Illegal data value" in done.stderr
    # A whole block without a signature (function 16) is no proof either.
    unsigned = CommandBlock(int(Command.ROLLBACK), 77, hardware_id=HW).registers()
    assert write_block(port, unsigned).returncode != 0
    assert not machine.busy
    assert machine.disk.slots[machine.disk.active].sha256 == second.package_sha256
    assert machine.state is State.ACTIVE
    sec = security(port)
    assert field(sec, "refused_count") == 2
    assert field(sec, "last_refusal_code") == ErrorCode.PROOF_MISSING
    assert field(sec, "last_refusal_command") == Command.ROLLBACK
    assert field(sec, "last_refusal_function") == 16
    assert "without a signed proof" in field(sec, "last_refusal_text")


def test_mbpoll_replaying_a_sniffed_rollback_is_refused(controller, kit):
    """A master that recorded the workstation's genuine ROLLBACK cannot send it again."""
    flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    flash_package(controller.endpoint, package(kit, 2), policy=PATIENT, signer=OPERATOR)
    sniffed: list[list[int]] = []
    with ControllerClient.open(controller.endpoint, PATIENT, OPERATOR) as c:
        write = c.link.write

        def tap(address, values, **kw):
            sniffed.append(list(values))
            return write(address, values, **kw)
        c.link.write = tap  # type: ignore[method-assign]
        c.rollback()
    third = flash_package(controller.endpoint, package(kit, 3), policy=PATIENT,
                          signer=OPERATOR)
    port = controller.endpoint.port
    done = write_block(controller.endpoint.port, sniffed[0])
    assert done.returncode != 0 and "Illegal data value" in done.stderr
    machine = controller.runtime.machine
    assert machine.disk.slots[machine.disk.active].sha256 == third.package_sha256
    assert field(security(port), "last_refusal_code") == ErrorCode.PROOF_REPLAYED


def test_mbpoll_carrying_the_workstations_signed_rollback_is_obeyed(controller, kit):
    first = flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    flash_package(controller.endpoint, package(kit, 2), policy=PATIENT, signer=OPERATOR)
    port = controller.endpoint.port
    nonce = field(security(port), "nonce")  # mbpoll reads the challenge ...
    # ... the workstation signs it (the same bytes its client signs) ...
    block = CommandBlock(int(Command.ROLLBACK), 4242, nonce=nonce, hardware_id=HW
                         ).signed_by(OPERATOR).registers()
    assert len(block) == r.COMMAND_COUNT
    mbpoll(port, "-t", "4", "-r", "0", "127.0.0.1", *map(str, block))  # ... mbpoll writes it
    machine = controller.runtime.machine
    wait_for(lambda: machine.busy, lambda busy: not busy, "the end of the rollback")
    active = machine.disk.slots[machine.disk.active]
    assert active.sha256 == first.package_sha256 and machine.state is State.ACTIVE
    assert field(security(port), "nonce") != nonce  # single use: a new challenge
    assert field(security(port), "refused_count") == 0


def test_mbpoll_reads_the_shadow_agreement(controller, kit):
    """Issue 11.4: a staged model in shadow beside the active one; any Modbus master reads how
    often the two agree and how long the staged one takes, in one sealed read."""
    flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    started = start_shadow(controller.endpoint, package(kit, 3), policy=PATIENT,
                           signer=OPERATOR)
    port, base = controller.endpoint.port, r.SHADOW_BASE

    def read() -> list[int]:
        return registers(mbpoll(port, "-t", "3", "-r", str(base), "-c", str(r.SHADOW_COUNT),
                                "127.0.0.1"), base)
    regs = wait_for(read, lambda regs: field(regs, "shadow_compared", base) >= 40,
                    "40 windows compared in shadow, read by mbpoll")
    assert len(regs) == r.SHADOW_COUNT and r.sealed(regs, r.FIELDS["shadow_crc"], base)
    assert field(regs, "shadow_state", base) == ShadowState.RUNNING
    assert field(regs, "shadow_sha256", base) == started.package_sha256
    assert field(regs, "shadow_version", base) == 3
    n, agreed = field(regs, "shadow_compared", base), field(regs, "shadow_agreed", base)
    assert field(regs, "shadow_agreement", base) == agreed * 10000 // n < 10000
    assert field(regs, "shadow_latency_max_us", base) >= \
        field(regs, "shadow_latency_mean_us", base) > 0
    # The active model still runs and is the one the status block names.
    status = registers(mbpoll(port, "-t", "3", "-r", "100", "-c", str(r.STATUS_COUNT),
                              "127.0.0.1"), 100)
    assert r.decode(r.FIELDS["active_version"], status, 100) == 1
    assert r.decode(r.FIELDS["state"], status, 100) == State.STAGED
