"""T21: the controller process is killed (a power cut) after staging, while an activation is
unconfirmed, between COMMIT and its confirming self-test, and at random moments of a flash;
restarted, it always boots a known model and the client reads the real state."""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from app.devices.controller.serve import CRASH_ENV
from app.devices.flash import (
    ControllerClient,
    ControllerError,
    Endpoint,
    flash_package,
    read_status,
)
from app.devices.protocol.codes import Command, ErrorCode, State
from app.devices.protocol.registers import MAX_CHUNK
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, PATIENCE_S, package
from tests.packages.kit import HW, Kit

ROOT = Path(__file__).resolve().parents[2]
KILLS = int(os.environ.get("PLANTML_T21_KILLS", "4"))


class Box:
    """A controller in a child process, as an edge box with a power switch."""

    def __init__(self, root: Path, kit: Kit) -> None:
        self.root, self.state = root, root / "state"
        self.trust = root / "trust.json"
        kit.trust.save(self.trust)
        self.replay = root / "replay.npy"
        t = np.arange(8000) / 2000.0
        np.save(self.replay, np.sin(2 * np.pi * 50 * t)[np.newaxis].astype(np.float32))
        self.proc: subprocess.Popen | None = None
        self.endpoint: Endpoint | None = None
        self.starts = 0

    def power_on(self, crash_at: str | None = None) -> Endpoint:
        """Start the controller; returns once it serves (its 'serving on' line)."""
        self.starts += 1
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        env.pop(CRASH_ENV, None)
        if crash_at:
            env[CRASH_ENV] = crash_at
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.devices.controller", "--state-dir", str(self.state),
             "--hardware-id", HW, "--trust", str(self.trust), "--tcp", "127.0.0.1:0",
             "--replay", str(self.replay), "--rate", "2000", "--speed", "4"], cwd=ROOT, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # The runtime prints one line once its port answers; EOF means it died first.
        line = self.proc.stdout.readline()
        self.proc.stdout.close()
        if "serving on tcp:" not in line:
            self.proc.wait()
            raise AssertionError(f"controller did not start: {self.proc.stderr.read()}")
        self.endpoint = Endpoint.tcp("127.0.0.1", int(line.rsplit(":", 1)[1]))
        return self.endpoint

    def power_cut(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            _, err = self.proc.communicate(timeout=PATIENCE_S)
            assert "Traceback" not in err, err
            self.proc = None

    def died(self, timeout: float = PATIENCE_S) -> bool:
        assert self.proc is not None
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        self.proc.stderr.close()
        self.proc = None
        return True


@pytest.fixture
def box(tmp_path: Path, kit: Kit) -> Iterator[Box]:
    b = Box(tmp_path, kit)
    yield b
    b.power_cut()


def pkg(kit: Kit, version: int) -> Path:
    """A package valid now: the child process checks expiry against the real clock."""
    return package(kit, version, created_at=datetime.now(UTC).replace(microsecond=0))


def stage(ep: Endpoint, path: Path, activate: bool = False, commit: bool = False) -> None:
    data = path.read_bytes()
    with ControllerClient.open(ep, PATIENT, signer=OPERATOR) as c:
        c.send(Command.BEGIN, arg0=len(data), arg1=len(data), chunk_size=MAX_CHUNK,
               sha256=hashlib.sha256(data).hexdigest())
        for off in range(0, len(data), MAX_CHUNK):
            c.write_chunk(off, data[off:off + MAX_CHUNK], zlib.crc32(data[off:off + MAX_CHUNK]))
        c.run(Command.VERIFY, PATIENCE_S)
        c.run(Command.SELF_TEST, PATIENCE_S)
        if activate:
            # The deadline is far beyond the test: the cut, not the clock, ends the activation.
            c.run(Command.ACTIVATE, PATIENCE_S, arg0=3600)
        if commit:
            with contextlib.suppress(ControllerError):
                c.send(Command.COMMIT)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_cut_after_staging_boots_the_old_model(box, kit):
    v1, v2 = pkg(kit, 1), pkg(kit, 2)
    assert flash_package(box.power_on(), v1, policy=PATIENT, signer=OPERATOR).ok
    stage(box.endpoint, v2)
    assert read_status(box.endpoint, PATIENT).state is State.STAGED
    box.power_cut()
    st = read_status(box.power_on(), PATIENT)
    assert st.state is State.ACTIVE and st.active.sha256 == sha(v1) and st.staged is None
    assert st.boot_count == 2
    assert flash_package(box.endpoint, v2, policy=PATIENT, signer=OPERATOR).ok


def test_cut_while_unconfirmed_reverts_at_boot(box, kit):
    v1, v2 = pkg(kit, 1), pkg(kit, 2)
    assert flash_package(box.power_on(), v1, policy=PATIENT, signer=OPERATOR).ok
    stage(box.endpoint, v2, activate=True)
    st = read_status(box.endpoint, PATIENT)
    assert st.state is State.ACTIVE_UNCONFIRMED and st.active.sha256 == sha(v2)
    box.power_cut()
    st = read_status(box.power_on(), PATIENT)
    assert st.state is State.ACTIVE and st.active.sha256 == sha(v1)
    assert st.last_error is ErrorCode.BOOT_REVERTED and "reverted" in st.error_text


@pytest.mark.parametrize("point", ["activate-after-state", "commit-before-confirm",
                                   "confirm-before-state"])
def test_cut_between_commit_and_its_confirmation_reverts(box, kit, point):
    v1, v2 = pkg(kit, 1), pkg(kit, 2)
    assert flash_package(box.power_on(), v1, policy=PATIENT, signer=OPERATOR).ok
    box.power_cut()
    box.power_on(crash_at=point)
    with contextlib.suppress(ControllerError):
        stage(box.endpoint, v2, activate=True, commit=True)
    assert box.died(), f"the controller did not reach {point}"
    st = read_status(box.power_on(), PATIENT)
    assert st.state is State.ACTIVE and st.active.sha256 == sha(v1), point
    assert st.last_error is ErrorCode.BOOT_REVERTED
    assert flash_package(box.endpoint, v2, policy=PATIENT, signer=OPERATOR).ok


def test_random_power_cuts_during_flashing_always_boot_a_known_model(box, kit):
    rng = random.Random(21)
    committed = pkg(kit, 1)
    assert flash_package(box.power_on(), committed, policy=PATIENT, signer=OPERATOR).ok
    for version in range(2, 2 + KILLS):
        new = pkg(kit, version)
        # The cut comes at a random point of the flash's own progress (any chunk, or between
        # the steps VERIFY ... COMMIT), not at a random time, which a slow machine would
        # turn into "always during the first chunks".
        at = rng.uniform(0.0, 1.0)

        def cut_at(fraction: float, message: str, at: float = at) -> None:
            if fraction >= at:
                box.power_cut()
        with contextlib.suppress(ControllerError):
            flash_package(box.endpoint, new, policy=PATIENT, progress=cut_at, signer=OPERATOR)
        box.power_cut()
        st = read_status(box.power_on(), PATIENT)
        assert st.state is State.ACTIVE, st.summary()
        assert st.active.sha256 in (sha(committed), sha(new)), st.summary()
        if st.active.sha256 == sha(committed):
            assert flash_package(box.endpoint, new, policy=PATIENT, signer=OPERATOR).ok
        committed = new
