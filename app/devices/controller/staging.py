"""Transfer and staging: BEGIN, chunks, VERIFY into the inactive slot, SELF_TEST, discard."""

from __future__ import annotations

import logging
import shutil

from app.core.errors import StorageError
from app.devices.controller.engine import Engine, ModelLoadError
from app.devices.controller.flashstate import (
    DEVICE_BUSY,
    DEVICE_FAILURE,
    ILLEGAL_VALUE,
    FlashState,
    Reject,
    need,
)
from app.devices.controller.selftest import SelfTestFailed, run_self_test
from app.devices.controller.slots import SlotInfo
from app.devices.controller.transfer import Transfer, TransferError
from app.devices.protocol import registers as r
from app.devices.protocol.codes import BeginFlag, ErrorCode, StagedFlag, State
from app.devices.protocol.proof import CommandBlock
from app.devices.protocol.words import words_bytes
from app.packages.errors import PackageRefused
from app.packages.trust import TrustStore
from app.packages.verify import verify_package

log = logging.getLogger(__name__)


def begin(m: FlashState, block: CommandBlock, *, resume: bool = False) -> None:
    """BEGIN: check the declared transfer and start receiving into the inactive slot; with
    ``resume`` (the session's owner begins the very stream it was sending) the bytes
    received so far are kept."""
    if m.state in (State.ACTIVE_UNCONFIRMED,):
        raise Reject(DEVICE_FAILURE, ErrorCode.BAD_STATE, "COMMIT or ROLLBACK first")
    if resume and m.transfer is not None and m.state in (State.RECEIVING, State.STAGED) \
            and m.flags in (StagedFlag(0), StagedFlag.COMPLETE):
        m.transfer.last_chunk_at = m.cfg.clock.monotonic()
        log.info("transfer resumed at byte %d by its owner", m.transfer.acked)
        return
    total, length = block.arg0, block.arg1
    flags, size, sha = block.flags, block.chunk_size, block.sha256
    if not 0 < size <= r.MAX_CHUNK or flags & ~int(BeginFlag.ZLIB) or sha is None:
        raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_ARGUMENT, "bad chunk size, flags or hash")
    if not 0 < total <= m.cfg.max_package or not 0 < length <= m.cfg.max_package:
        raise Reject(ILLEGAL_VALUE, ErrorCode.TOO_LARGE, f"package over "
                     f"{m.cfg.max_package} bytes")
    if -(-total // size) > r.MAX_DIGESTS:
        raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_ARGUMENT, "too many chunks; use larger")
    if not flags and total != length:
        raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_ARGUMENT, "lengths differ, no zlib")
    discard(m)
    m.transfer = Transfer(total, length, sha, size, bool(flags & BeginFlag.ZLIB),
                          clock=m.cfg.clock.monotonic)
    m.staged_slot = m.disk.other(m.disk.active)
    m.state = State.RECEIVING
    m.error, m.error_text, m.error_chunk = ErrorCode.NONE, "", None
    log.info("transfer begun: %d bytes in chunks of %d, package %s", total, size, sha[:12])


def accept_chunk(m: FlashState, regs: list[int]) -> None:
    """A transfer window write: session (checked by the machine), offset, length, CRC-32,
    data."""
    offset, length = (regs[2] << 16) | regs[3], regs[4]
    crc = (regs[5] << 16) | regs[6]
    data_regs = regs[r.WINDOW_HEADER_REGS:]
    if len(data_regs) != -(-length // 2):
        raise Reject(ILLEGAL_VALUE, ErrorCode.CHUNK_LENGTH, f"{length} bytes do not fill "
                     f"{len(data_regs)} data registers")
    with m.lock:
        if m.busy:
            raise Reject(DEVICE_BUSY)
        if m.state is not State.RECEIVING or m.transfer is None:
            m.fail(ErrorCode.BAD_STATE, "chunk refused: no transfer in progress")
            raise Reject(DEVICE_FAILURE, ErrorCode.BAD_STATE, "no transfer in progress")
        try:
            m.transfer.accept(offset, words_bytes(data_regs, length), crc)
        except TransferError as exc:
            m.fail(exc.code, exc.text, exc.chunk)
            raise Reject(ILLEGAL_VALUE, exc.code, exc.text, exc.chunk) from None
        if m.transfer.complete:
            m.state, m.flags = State.STAGED, StagedFlag.COMPLETE


def drop_stalled(m: FlashState, now: float) -> None:
    """A transfer without a chunk for the idle timeout, or longer than allowed, is dropped."""
    t = m.transfer
    if m.state is State.RECEIVING and t is not None and (
            now - t.last_chunk_at > m.cfg.idle_timeout_s
            or now - t.started_at > m.cfg.max_transfer_s):
        m.clear_staging()
        m.fail(ErrorCode.TRANSFER_TIMEOUT, "transfer stalled: dropped", state=m.rest_state())


def start_verify(m: FlashState) -> None:
    """VERIFY: check the staged bytes and the package, write them to the inactive slot."""
    need(m.state is State.STAGED and m.flags == StagedFlag.COMPLETE,
         "VERIFY needs a complete transfer")
    m.state = State.VERIFYING
    m.start_job("verify", lambda: _verify(m))


def start_self_test(m: FlashState) -> None:
    """SELF_TEST: run the verified package's golden inputs."""
    need(m.state is State.STAGED and StagedFlag.VERIFIED in m.flags,
         "SELF_TEST needs a verified package")
    m.state = State.SELF_TEST
    m.start_job("self-test", lambda: _self_test(m))


def _verify(m: FlashState) -> None:
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
        discard(m)
        m.fail(ErrorCode.PACKAGE_REFUSED, text, state=State.ERROR)
        raise Reject(ILLEGAL_VALUE, ErrorCode.PACKAGE_REFUSED, text) from None
    except (StorageError, OSError) as exc:
        discard(m)
        m.fail(ErrorCode.STORAGE, f"slot write failed: {exc}", state=State.ERROR)
        raise Reject(DEVICE_FAILURE, ErrorCode.STORAGE, str(exc)) from None
    with m.lock:
        m.staged_info, m.staged_files = SlotInfo.of(package), files
        m.transfer = None  # the bytes now live in the slot; free the memory
        m.flags |= StagedFlag.VERIFIED
        m.state = State.STAGED
    log.info("package %s verified into slot %s", package.package_id, slot)


def _self_test(m: FlashState) -> None:
    try:
        engine = Engine(m.staged_files["model.onnx"])
        n = run_self_test(engine, m.staged_files)
    except (ModelLoadError, SelfTestFailed) as exc:
        code = ErrorCode.LOAD_FAILED if isinstance(exc, ModelLoadError) else \
            ErrorCode.SELF_TEST_FAILED
        discard(m)
        m.fail(code, f"self-test: {exc}", state=State.ERROR)
        raise Reject(DEVICE_FAILURE, code, str(exc)) from None
    with m.lock:
        m.staged_engine = engine
        m.flags |= StagedFlag.SELF_TESTED
        m.state = State.STAGED
    log.info("self-test passed on %d golden inputs", n)


def discard(m: FlashState) -> None:
    """Forget the transfer and staged package, and delete a slot nothing refers to."""
    with m.lock:
        staged = m.staged_slot
        m.clear_staging()
        if staged is not None and staged not in m.disk.slots:
            shutil.rmtree(m.store.slot_dir(staged), ignore_errors=True)
