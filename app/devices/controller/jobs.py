"""The long steps of the flash state machine: verify, self-test, activate, commit, roll back."""

from __future__ import annotations

import logging
import shutil

from app.core.errors import StorageError
from app.devices.controller.engine import Engine, ModelLoadError
from app.devices.controller.machine import (
    DEVICE_FAILURE,
    ILLEGAL_VALUE,
    FlashMachine,
    Reject,
    short,
)
from app.devices.controller.selftest import SelfTestFailed, run_self_test
from app.devices.controller.slots import SlotInfo
from app.devices.controller.transfer import TransferError
from app.devices.protocol.codes import Command, ErrorCode, StagedFlag, State
from app.packages import PackageRefused, TrustStore, verify_package

log = logging.getLogger(__name__)


def _need(m: FlashMachine, ok: bool, text: str) -> None:
    if not ok:
        raise Reject(DEVICE_FAILURE, ErrorCode.BAD_STATE, text)


def start(m: FlashMachine, cmd: Command, regs: list[int] | None) -> None:
    """Check that ``cmd`` fits the state (under the machine's lock), then run it as a job."""
    staged = m.state is State.STAGED
    if cmd is Command.VERIFY:
        _need(m, staged and m.flags == StagedFlag.COMPLETE, "VERIFY needs a complete transfer")
        m.state = State.VERIFYING
        m.start_job("verify", lambda: _verify(m))
    elif cmd is Command.SELF_TEST:
        _need(m, staged and StagedFlag.VERIFIED in m.flags, "SELF_TEST needs a verified package")
        m.state = State.SELF_TEST
        m.start_job("self-test", lambda: _self_test(m))
    elif cmd is Command.ACTIVATE:
        _need(m, staged and StagedFlag.SELF_TESTED in m.flags, "ACTIVATE needs a self-tested "
              "package")
        deadline = m.cfg.commit_deadline_s
        if regs is not None and (arg := (regs[2] << 16) | regs[3]):
            deadline = arg
        if not 0 < deadline <= 3600:
            raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_ARGUMENT, "deadline not in 1..3600 s")
        m.start_job("activate", lambda: _activate(m, deadline))
    elif cmd is Command.COMMIT:
        _need(m, m.state is State.ACTIVE_UNCONFIRMED, "nothing to COMMIT")
        m.state = State.SELF_TEST
        m.start_job("commit", lambda: _commit(m))
    elif cmd is Command.ROLLBACK:
        unconfirmed = m.state is State.ACTIVE_UNCONFIRMED
        if not unconfirmed and m.disk.previous is None:
            raise Reject(DEVICE_FAILURE, ErrorCode.NO_PREVIOUS, "no previous model to go back to")
        _need(m, m.state not in (State.VERIFYING, State.SELF_TEST), "busy")
        m.start_job("rollback", lambda: revert(m, ErrorCode.NONE, "rolled back") if unconfirmed
                    else _rollback(m))


def _verify(m: FlashMachine) -> None:
    assert m.transfer is not None and m.staged_slot is not None
    try:
        data = m.transfer.package_bytes()
    except TransferError as exc:
        m.fail(exc.code, exc.text, exc.chunk, state=State.ERROR)
        raise Reject(ILLEGAL_VALUE, exc.code, exc.text, exc.chunk) from None
    slot = m.staged_slot
    try:
        path = m.store.write_incoming(data)
        trust = TrustStore.load(m.cfg.trust_store_path)
        # The controller's own accepted counters are the floor; the pinned file may add to it.
        for name, counter in m.disk.counters.items():
            trust.counters[name] = max(counter, trust.counters.get(name, 0))
        package = verify_package(path, trust, clock=m.cfg.clock, hardware_id=m.cfg.hardware_id)
        # Only a package that passed every check may take the previous model's slot.
        with m.lock:
            m.store.free_slot(m.disk, slot)
        files = m.store.install(slot, package, data)
    except PackageRefused as exc:
        text = f"package refused ({exc.reason_code}): {exc}"
        _discard(m)
        m.fail(ErrorCode.PACKAGE_REFUSED, text, state=State.ERROR)
        raise Reject(ILLEGAL_VALUE, ErrorCode.PACKAGE_REFUSED, text) from None
    except (StorageError, OSError) as exc:
        _discard(m)
        m.fail(ErrorCode.STORAGE, f"slot write failed: {exc}", state=State.ERROR)
        raise Reject(DEVICE_FAILURE, ErrorCode.STORAGE, str(exc)) from None
    with m.lock:
        m.staged_info, m.staged_files = SlotInfo.of(package), files
        m.transfer = None  # the bytes now live in the slot; free the memory
        m.flags |= StagedFlag.VERIFIED
        m.state = State.STAGED
    log.info("package %s verified into slot %s", package.package_id, slot)


def _self_test(m: FlashMachine) -> None:
    try:
        engine = Engine(m.staged_files["model.onnx"])
        n = run_self_test(engine, m.staged_files)
    except (ModelLoadError, SelfTestFailed) as exc:
        code = ErrorCode.LOAD_FAILED if isinstance(exc, ModelLoadError) else \
            ErrorCode.SELF_TEST_FAILED
        _discard(m)
        m.fail(code, f"self-test: {exc}", state=State.ERROR)
        raise Reject(DEVICE_FAILURE, code, str(exc)) from None
    with m.lock:
        m.staged_engine = engine
        m.flags |= StagedFlag.SELF_TESTED
        m.state = State.STAGED
    log.info("self-test passed on %d golden inputs", n)


def _activate(m: FlashMachine, deadline_s: int) -> None:
    assert m.staged_slot is not None and m.staged_info is not None
    slot, disk = m.staged_slot, m.disk
    with m.lock:
        disk.slots[slot] = m.staged_info
        disk.previous, disk.active, disk.pending = disk.active, slot, slot
        m.store.save(disk)
        m.crash_point("activate-after-state")
        m.previous_engine, m.engine = m.engine, m.staged_engine
        m.clear_staging()
        m.deadline = m.cfg.clock.monotonic() + deadline_s
        m.state = State.ACTIVE_UNCONFIRMED
    m.on_engine()
    log.info("slot %s active, unconfirmed; COMMIT within %d s", slot, deadline_s)


def _commit(m: FlashMachine) -> None:
    m.crash_point("commit-before-confirm")
    slot = m.disk.active
    assert slot is not None and m.engine is not None
    try:
        run_self_test(m.engine, m.store.files(slot))
    except SelfTestFailed as exc:
        revert(m, ErrorCode.SELF_TEST_FAILED, f"confirm self-test: {exc}")
        raise Reject(DEVICE_FAILURE, ErrorCode.SELF_TEST_FAILED, str(exc)) from None
    m.crash_point("confirm-before-state")
    with m.lock:
        info = m.disk.slots[slot]
        m.disk.pending = None
        m.disk.counters[info.model_name] = max(info.release_counter,
                                               m.disk.counters.get(info.model_name, 0))
        m.store.save(m.disk)
        m.previous_engine, m.deadline = None, None
        m.state = State.ACTIVE
    log.info("slot %s committed: %s v%d", slot, info.model_name, info.model_version)


def _load(m: FlashMachine, slot: str) -> Engine:
    info = m.disk.slots.get(slot)
    if info is None or not m.store.slot_ok(slot, info):
        raise Reject(DEVICE_FAILURE, ErrorCode.NO_PREVIOUS, f"slot {slot} is damaged")
    try:
        return Engine(m.store.slot_dir(slot) / "model.onnx")
    except ModelLoadError as exc:
        raise Reject(DEVICE_FAILURE, ErrorCode.LOAD_FAILED, str(exc)) from None


def _rollback(m: FlashMachine) -> None:
    prev = m.disk.previous
    assert prev is not None
    engine = _load(m, prev)
    with m.lock:
        m.disk.active, m.disk.previous = prev, m.disk.active
        m.store.save(m.disk)
        m.engine = engine
        m.state = State.ACTIVE
    m.on_engine()
    log.info("rolled back to slot %s", prev)


def revert(m: FlashMachine, error: ErrorCode, text: str) -> None:
    """Back to the previous slot after a failed or unconfirmed activation (durably first)."""
    with m.lock:
        failed, disk = m.disk.active, m.disk
        disk.slots.pop(failed or "", None)
        disk.active, disk.previous, disk.pending = disk.previous, None, None
        m.store.save(disk)
        engine = m.previous_engine
        if engine is None and disk.active is not None:
            engine = _load(m, disk.active)
        m.engine, m.previous_engine, m.deadline = engine, None, None
        if failed is not None:
            shutil.rmtree(m.store.slot_dir(failed), ignore_errors=True)
        m.error, m.error_text, m.error_chunk = error, short(text), None
        m.state = m.rest_state()
    m.on_engine()
    log.warning("activation of slot %s reverted: %s", failed, text)


def abort(m: FlashMachine) -> None:
    """Drop the transfer or staged package; an unconfirmed activation reverts."""
    if m.state is State.ACTIVE_UNCONFIRMED:
        revert(m, ErrorCode.NONE, "aborted: reverted")
        return
    if m.state in (State.VERIFYING, State.SELF_TEST):
        raise Reject(6)
    _discard(m)
    m.state = m.rest_state()


def _discard(m: FlashMachine) -> None:
    """Forget the transfer and staged package, and delete a slot nothing refers to."""
    with m.lock:
        staged = m.staged_slot
        m.clear_staging()
        if staged is not None and staged not in m.disk.slots:
            shutil.rmtree(m.store.slot_dir(staged), ignore_errors=True)


def boot(m: FlashMachine) -> None:
    """Load the state folder and the active model; anything unknown falls back."""
    disk, notes = m.store.boot()
    engine = None
    while disk.active is not None and engine is None:
        try:
            engine = Engine(m.store.slot_dir(disk.active) / "model.onnx")
        except ModelLoadError as exc:
            notes.append(f"slot {disk.active} does not load: {exc}")
            disk.slots.pop(disk.active, None)
            disk.active, disk.previous = disk.previous, None
            m.store.save(disk)
    with m.lock:
        m.disk, m.engine = disk, engine
        m.state = m.rest_state()
        if notes:
            code = ErrorCode.BOOT_REVERTED if engine is not None else ErrorCode.NO_MODEL
            m.error, m.error_text = code, short("; ".join(notes))
