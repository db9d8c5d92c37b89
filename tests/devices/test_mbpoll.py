"""Any Modbus master can read a controller: mbpoll (Debian package mbpoll) reads the identity
and status blocks of the reference runtime over TCP, and rolls it back with one write."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from app.devices.flash import flash_package
from app.devices.protocol import registers as r
from app.devices.protocol.codes import Command, State
from tests.devices.conftest import PATIENT
from tests.devices.kit import package, wait_for
from tests.packages.kit import HW

MBPOLL = shutil.which("mbpoll")
pytestmark = pytest.mark.skipif(MBPOLL is None, reason="mbpoll is not installed "
                                "(apt-get install mbpoll)")


def mbpoll(port: int, *args: str) -> str:
    assert MBPOLL is not None
    done = subprocess.run([MBPOLL, "-m", "tcp", "-a", "1", "-p", str(port), "-0", "-1",
                           *args], capture_output=True, text=True, timeout=20, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def registers(out: str, start: int) -> list[int]:
    values = {int(a): int(v) for a, v in re.findall(r"^\[(\d+)\]:\s+(\d+)", out, re.M)}
    return [values[start + i] for i in range(len(values))]


def test_mbpoll_reads_identity_and_status(controller, kit):
    first = flash_package(controller.endpoint, package(kit, 1), policy=PATIENT)
    port = controller.endpoint.port
    ident = registers(mbpoll(port, "-t", "3", "-r", "0", "-c", str(r.IDENTITY_COUNT),
                             "127.0.0.1"), 0)
    assert ident[:2] == [0x504C, 0x4D4C] and ident[2] == r.PROTOCOL_VERSION
    assert r.decode(r.FIELDS["hardware_id"], ident, 0) == HW
    assert r.sealed(ident, r.FIELDS["identity_crc"], 0)
    status = registers(mbpoll(port, "-t", "3", "-r", "100", "-c", str(r.STATUS_COUNT),
                              "127.0.0.1"), 100)
    assert r.decode(r.FIELDS["state"], status, 100) == State.ACTIVE
    assert r.decode(r.FIELDS["active_sha256"], status, 100) == first.package_sha256
    assert r.decode(r.FIELDS["active_name"], status, 100) == "bearing"


def test_mbpoll_rolls_back_with_one_write(controller, kit):
    first = flash_package(controller.endpoint, package(kit, 1), policy=PATIENT)
    assert flash_package(controller.endpoint, package(kit, 2), policy=PATIENT).ok
    mbpoll(controller.endpoint.port, "-t", "4", "-r", "0", "127.0.0.1", str(int(
        Command.ROLLBACK)))
    machine = controller.runtime.machine
    wait_for(lambda: machine.busy, lambda busy: not busy, "the end of the rollback")
    active = machine.disk.slots[machine.disk.active]
    assert active.sha256 == first.package_sha256 and machine.state is State.ACTIVE
