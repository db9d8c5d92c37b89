"""Shadow mode on the reference runtime (issue 11.4), over pymodbus on 127.0.0.1: a staged,
self-tested package runs beside the active model on the same windows without taking over; its
agreement and latency are read from the shadow block (IR 6400-6437); the active model's
published results do not change; SHADOW needs the workstation's proof like every command."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import onnxruntime as ort
import pytest
from pymodbus.client import ModbusTcpClient

from app.devices.controller.engine import LABEL, Prediction
from app.devices.controller.shadow import agree
from app.devices.flash import (
    ControllerClient,
    DeviceRefused,
    ShadowStatus,
    flash_package,
    promote_shadow,
    start_shadow,
    stop_shadow,
)
from app.devices.protocol import registers as r
from app.devices.protocol.codes import Command, ErrorCode, ShadowState, StagedFlag, State
from app.devices.protocol.proof import CommandBlock
from tests.devices.conftest import PATIENT
from tests.devices.kit import (
    OPERATOR,
    WINDOW,
    ScriptedSensor,
    package,
    replay,
    wait_for,
    window_model,
)
from tests.packages.kit import HW

#: Windows compared before a test looks at the agreement (about half a second of replay).
WINDOWS = 40


def shadow_of(controller) -> ShadowStatus:
    with ControllerClient.open(controller.endpoint, PATIENT) as c:
        shadow = c.shadow_status()
    assert shadow is not None
    return shadow


def compared(controller, n: int = WINDOWS) -> ShadowStatus:
    return wait_for(lambda: shadow_of(controller), lambda s: s.compared >= n,
                    f"{n} windows compared in shadow")


def scripted() -> ScriptedSensor:
    base = replay()
    return ScriptedSensor(base.data, base.rate, block=WINDOW, speed=4.0)


def labels(seed: int, window: np.ndarray) -> tuple[int, np.ndarray]:
    sess = ort.InferenceSession(window_model(seed), providers=["CPUExecutionProvider"])
    label, scores, _ = sess.run(None, {"window": window[np.newaxis].astype(np.float32)})
    return int(label[0]), scores[0]


@pytest.fixture
def plain(controller) -> Iterator[ModbusTcpClient]:
    client = ModbusTcpClient("127.0.0.1", port=controller.endpoint.port, timeout=10, retries=0)
    assert client.connect()
    yield client
    client.close()


def test_a_different_model_in_shadow_disagrees_and_never_takes_over(controller, kit):
    first = flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    # Version 3's weights call about a fifth of the replayed windows another class.
    started = start_shadow(controller.endpoint, package(kit, 3), policy=PATIENT,
                           signer=OPERATOR)
    assert started.session and started.shadow.running and started.shadow.version == 3
    assert started.status.state is State.STAGED
    assert StagedFlag.SELF_TESTED in started.status.staged_flags
    assert started.status.active.sha256 == first.package_sha256
    shadow = compared(controller)
    assert shadow.state is ShadowState.RUNNING and shadow.sha256 == started.package_sha256
    assert shadow.agreed < shadow.compared and shadow.agreement is not None
    assert shadow.agreement < 1.0 and shadow.failures == 0
    assert shadow.latency_us > 0 and shadow.latency_mean_us > 0
    assert shadow.latency_max_us >= shadow.latency_mean_us
    machine = controller.runtime.machine
    assert machine.disk.slots[machine.disk.active].sha256 == first.package_sha256
    assert machine.state is State.STAGED


def test_the_same_model_in_shadow_agrees_on_every_window_even_invalid_ones(
        controller_factory, kit):
    ctl = controller_factory(sensor=scripted())
    flash_package(ctl.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    # Version 2 with version 1's weights: another package, the very same model.
    start_shadow(ctl.endpoint, package(kit, 2, seed=1), policy=PATIENT, signer=OPERATOR)
    compared(ctl)
    # A NaN sample makes the window invalid input for both models: still agreed.
    rt = ctl.runtime
    invalid = rt.invalid_count
    rt.sensor.override = np.full((1, WINDOW), np.nan, dtype=np.float32)  # type: ignore[union-attr]
    wait_for(lambda: rt.invalid_count, lambda n: n >= invalid + 5, "five invalid windows")
    rt.sensor.override = None  # type: ignore[union-attr]
    shadow = compared(ctl, shadow_of(ctl).compared + 5)
    assert shadow.agreed == shadow.compared >= WINDOWS + 5
    assert shadow.agreement == 1.0
    with ControllerClient.open(ctl.endpoint, PATIENT) as c:
        regs = c.link.read_input(r.SHADOW_BASE, r.SHADOW_COUNT, "shadow")
    assert r.decode(r.FIELDS["shadow_agreement"], regs, r.SHADOW_BASE) == 10000


def test_the_active_models_results_are_the_only_ones_published(controller_factory, kit):
    sensor = scripted()
    ctl = controller_factory(sensor=sensor)
    window = (2.0 + np.sin(np.linspace(0, 20, WINDOW)))[np.newaxis].astype(np.float32)
    (active_label, active_scores), (staged_label, _) = labels(1, window), labels(3, window)
    assert active_label != staged_label, "the test window must tell the two models apart"
    sensor.override = window
    flash_package(ctl.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    start_shadow(ctl.endpoint, package(kit, 3), policy=PATIENT, signer=OPERATOR)
    before = shadow_of(ctl).compared
    shadow = compared(ctl, before + WINDOWS)
    assert shadow.agreed == 0 and shadow.agreement == 0.0  # every window: another label
    with ControllerClient.open(ctl.endpoint, PATIENT) as c:
        live = c.live()
    assert live.prediction == active_label
    assert np.allclose(live.scores, active_scores, atol=1e-6)
    assert live.inference_count >= shadow.compared


def test_shadow_resets_when_the_staged_package_changes_and_at_activate(controller, kit):
    flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    first = start_shadow(controller.endpoint, package(kit, 3), policy=PATIENT,
                         signer=OPERATOR)
    compared(controller)
    # The same workstation stages another package: the comparison starts again, on it.
    second = start_shadow(controller.endpoint, package(kit, 2, seed=1), policy=PATIENT,
                          signer=OPERATOR)
    assert second.shadow.sha256 != first.package_sha256
    assert second.shadow.compared < WINDOWS
    shadow = compared(controller)
    assert shadow.sha256 == second.package_sha256 and shadow.agreed == shadow.compared
    # Stopped: the block reads off, the package stays staged; SHADOW again counts anew.
    stop_shadow(controller.endpoint, signer=OPERATOR, session=second.session,
                policy=PATIENT)
    off = shadow_of(controller)
    assert off.state is ShadowState.OFF and off.compared == 0 and off.sha256 is None
    assert controller.runtime.machine.state is State.STAGED
    with ControllerClient.open(controller.endpoint, PATIENT, OPERATOR) as c:
        c.session = second.session
        again = c.shadow()
    assert again is not None and again.running and again.compared < WINDOWS
    compared(controller, 5)
    status = promote_shadow(controller.endpoint, signer=OPERATOR, session=second.session,
                            package_sha256=second.package_sha256, policy=PATIENT)
    assert status.state is State.ACTIVE and status.active.sha256 == second.package_sha256
    after = shadow_of(controller)
    assert after.state is ShadowState.OFF and after.compared == 0


def test_stop_with_drop_leaves_the_old_model_running(controller, kit):
    first = flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    started = start_shadow(controller.endpoint, package(kit, 3), policy=PATIENT,
                           signer=OPERATOR)
    status = stop_shadow(controller.endpoint, signer=OPERATOR, session=started.session,
                         drop=True, policy=PATIENT)
    assert status.state is State.ACTIVE and status.staged is None
    assert status.active.sha256 == first.package_sha256
    assert not shadow_of(controller).running


def test_shadow_needs_a_self_tested_staged_package_and_a_running_model(controller, kit):
    with ControllerClient.open(controller.endpoint, PATIENT, OPERATOR) as c, \
            pytest.raises(DeviceRefused, match="SHADOW needs a running model"):
        c.send(Command.SHADOW)
    flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    with ControllerClient.open(controller.endpoint, PATIENT, OPERATOR) as c:
        with pytest.raises(DeviceRefused, match="self-tested staged package"):
            c.send(Command.SHADOW)
        assert c.status().last_error is ErrorCode.BAD_STATE
    assert not shadow_of(controller).running


def test_shadow_without_the_workstations_proof_is_refused(controller, kit, plain):
    flash_package(controller.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR)
    started = start_shadow(controller.endpoint, package(kit, 3), policy=PATIENT,
                           signer=OPERATOR)
    stop_shadow(controller.endpoint, signer=OPERATOR, session=started.session, policy=PATIENT)
    def sec() -> list[int]:
        return plain.read_input_registers(r.SECURITY_BASE, count=r.SECURITY_COUNT,
                                          device_id=1).registers
    count = r.decode(r.FIELDS["refused_count"], sec(), r.SECURITY_BASE)
    # One function-6 write of SHADOW into HR 0, then a whole block without a signature.
    answer = plain.write_register(0, int(Command.SHADOW), device_id=1)
    assert answer.isError() and answer.exception_code == 3
    unsigned = CommandBlock(int(Command.SHADOW), 77, session=started.session,
                            hardware_id=HW).registers()
    answer = plain.write_registers(0, unsigned, device_id=1)
    assert answer.isError() and answer.exception_code == 3
    regs = sec()
    assert r.decode(r.FIELDS["refused_count"], regs, r.SECURITY_BASE) == count + 2
    assert r.decode(r.FIELDS["last_refusal_code"], regs, r.SECURITY_BASE) == \
        ErrorCode.PROOF_MISSING
    assert r.decode(r.FIELDS["last_refusal_command"], regs, r.SECURITY_BASE) == Command.SHADOW
    assert not shadow_of(controller).running
    # A signed SHADOW outside the session that staged the package is refused too.
    with ControllerClient.open(controller.endpoint, PATIENT, OPERATOR) as c, \
            pytest.raises(DeviceRefused, match="session_busy"):
        c.send(Command.SHADOW)
    assert not shadow_of(controller).running


def test_shadow_block_is_sealed_and_announced(controller, kit):
    with ControllerClient.open(controller.endpoint, PATIENT) as c:
        ident = c.identity()
        regs = c.link.read_input(r.SHADOW_BASE, r.SHADOW_COUNT, "shadow")
    assert ident.capabilities & 128
    assert r.sealed(regs, r.FIELDS["shadow_crc"], r.SHADOW_BASE)
    assert regs[:-2] == [0] * (r.SHADOW_COUNT - 2)  # off: all zeros


def _prediction(label: float, reason: int = 0, *, labelled: bool = True) -> Prediction:
    outputs = {LABEL: np.array([label])} if labelled else {}
    return Prediction(label, np.zeros(0), np.zeros(0), 1e-5, outputs, input_reason=reason)


def test_agreement_rule():
    assert agree(_prediction(1), _prediction(1))
    assert not agree(_prediction(1), _prediction(2))
    assert agree(_prediction(-1, 2), _prediction(-1, 1)), "both invalid: agreed"
    assert not agree(_prediction(-1, 2), _prediction(1)), "one invalid: a disagreement"
    assert not agree(_prediction(1), _prediction(-1, 4))
    def value(v: float) -> Prediction:
        return _prediction(v, labelled=False)
    assert agree(value(100.0), value(100.5)) and not agree(value(100.0), value(102.0))


def test_meets_names_what_is_missing():
    base = dict(state=ShadowState.RUNNING, slot="B", version=2, counter=2, sha256="ab" * 32,
                failures=0, latency_us=50, latency_mean_us=50, latency_max_us=90)
    ok = ShadowStatus(compared=200, agreed=199, running_s=120, **base)
    assert ok.meets(min_agreement=0.99, min_windows=100, min_seconds=60) == ""
    assert "agreed on 99.50%" in ok.meets(min_agreement=0.999)
    assert "ran 120 s of the 600 s" in ok.meets(min_agreement=0.9, min_seconds=600)
    assert "compared 200 windows of the 500" in ok.meets(min_agreement=0.9, min_windows=500)
    off = ShadowStatus(compared=0, agreed=0, running_s=0, **(base | {"state": ShadowState.OFF}))
    assert off.meets(min_agreement=0.0) == "no shadow comparison is running"
