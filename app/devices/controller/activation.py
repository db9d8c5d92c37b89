"""Activation and its way back: ACTIVATE, COMMIT, ROLLBACK, revert, the commit deadline, boot."""

from __future__ import annotations

import logging
import shutil

from app.devices.controller import events as ev
from app.devices.controller.engine import Engine, ModelLoadError
from app.devices.controller.flashstate import (
    DEVICE_FAILURE,
    ILLEGAL_VALUE,
    FlashState,
    Reject,
    need,
    short,
)
from app.devices.controller.selftest import SelfTestFailed, run_self_test
from app.devices.protocol.codes import ErrorCode, StagedFlag, State

log = logging.getLogger(__name__)


def start_activate(m: FlashState, arg0: int) -> None:
    """ACTIVATE: run the self-tested staged slot, unconfirmed; arg0 is the commit deadline
    (0: the default)."""
    need(m.state is State.STAGED and StagedFlag.SELF_TESTED in m.flags,
         "ACTIVATE needs a self-tested package")
    deadline = arg0 or m.cfg.commit_deadline_s
    if not 0 < deadline <= 3600:
        raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_ARGUMENT, "deadline not in 1..3600 s")
    m.start_job("activate", lambda: _activate(m, deadline))


def start_commit(m: FlashState) -> None:
    """COMMIT: confirm the unconfirmed model after a last golden self-test on it."""
    need(m.state is State.ACTIVE_UNCONFIRMED, "nothing to COMMIT")
    m.state = State.SELF_TEST
    m.start_job("commit", lambda: _commit(m))


def start_rollback(m: FlashState) -> None:
    """ROLLBACK: revert an unconfirmed activation, or go back to the previous slot."""
    unconfirmed = m.state is State.ACTIVE_UNCONFIRMED
    if not unconfirmed and m.disk.previous is None:
        raise Reject(DEVICE_FAILURE, ErrorCode.NO_PREVIOUS, "no previous model to go back to")
    need(m.state not in (State.VERIFYING, State.SELF_TEST), "busy")
    m.start_job("rollback", lambda: revert(m, ErrorCode.NONE, "rolled back") if unconfirmed
                else _rollback(m))


def check_deadline(m: FlashState, now: float) -> None:
    """An unconfirmed activation past its deadline reverts (called under the lock)."""
    if m.state is State.ACTIVE_UNCONFIRMED and m.deadline is not None and now > m.deadline:
        revert(m, ErrorCode.COMMIT_TIMEOUT, "no COMMIT before the deadline: reverted")


def _activate(m: FlashState, deadline_s: int) -> None:
    assert m.staged_slot is not None and m.staged_info is not None
    slot, disk = m.staged_slot, m.disk
    with m.lock:
        disk.slots[slot] = m.staged_info
        before = disk.slots.get(disk.active or "")
        disk.previous, disk.active, disk.pending = disk.active, slot, slot
        m.store.save(disk)
        m.events.record(ev.ACTIVATED, disk.boot_count, before, m.staged_info)
        m.crash_point("activate-after-state")
        m.previous_engine, m.engine = m.engine, m.staged_engine
        m.clear_staging()
        m.deadline = m.cfg.clock.monotonic() + deadline_s
        m.state = State.ACTIVE_UNCONFIRMED
    m.on_engine()
    log.info("slot %s active, unconfirmed; COMMIT within %d s", slot, deadline_s)


def _commit(m: FlashState) -> None:
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
        m.events.record(ev.COMMITTED, m.disk.boot_count, info, info)
        m.previous_engine, m.deadline = None, None
        m.state = State.ACTIVE
    log.info("slot %s committed: %s v%d", slot, info.model_name, info.model_version)


def _load(m: FlashState, slot: str) -> Engine:
    info = m.disk.slots.get(slot)
    if info is None or not m.store.slot_ok(slot, info):
        raise Reject(DEVICE_FAILURE, ErrorCode.NO_PREVIOUS, f"slot {slot} is damaged")
    try:
        return Engine(m.store.slot_dir(slot) / "model.onnx")
    except ModelLoadError as exc:
        raise Reject(DEVICE_FAILURE, ErrorCode.LOAD_FAILED, str(exc)) from None


def _rollback(m: FlashState) -> None:
    prev = m.disk.previous
    assert prev is not None
    engine = _load(m, prev)
    with m.lock:
        before = m.disk.slots.get(m.disk.active or "")
        m.disk.active, m.disk.previous = prev, m.disk.active
        m.store.save(m.disk)
        m.events.record(ev.ROLLED_BACK, m.disk.boot_count, before, m.disk.slots.get(prev))
        m.engine = engine
        m.state = State.ACTIVE
    m.on_engine()
    log.info("rolled back to slot %s", prev)


def revert(m: FlashState, error: ErrorCode, text: str) -> None:
    """Back to the previous slot after a failed or unconfirmed activation (durably first)."""
    with m.lock:
        failed, disk = m.disk.active, m.disk
        before = disk.slots.pop(failed or "", None)
        disk.active, disk.previous, disk.pending = disk.previous, None, None
        m.store.save(disk)
        m.events.record(ev.REVERTED, disk.boot_count, before, disk.slots.get(disk.active or ""))
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


def boot(m: FlashState) -> None:
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
            m.events.record(ev.BOOT_FALLBACK, disk.boot_count, None,
                            disk.slots.get(disk.active or ""))
            code = ErrorCode.BOOT_REVERTED if engine is not None else ErrorCode.NO_MODEL
            m.error, m.error_text = code, short("; ".join(notes))
