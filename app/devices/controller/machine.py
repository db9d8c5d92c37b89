"""The flash state machine: commands and chunks in, status out; long steps run as jobs."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.core.clock import Clock
from app.devices.controller.engine import Engine
from app.devices.controller.slots import DiskState, SlotInfo, SlotStore
from app.devices.controller.transfer import Transfer, TransferError
from app.devices.protocol import registers as r
from app.devices.protocol.codes import (
    BARE_COMMANDS,
    RESULT_RUNNING,
    BeginFlag,
    Command,
    ErrorCode,
    StagedFlag,
    State,
)
from app.devices.protocol.words import crc32_words, words_bytes
from app.fieldbus.exceptions import ExceptionCode

log = logging.getLogger(__name__)

ILLEGAL_ADDRESS = ExceptionCode.ILLEGAL_DATA_ADDRESS
ILLEGAL_VALUE = ExceptionCode.ILLEGAL_DATA_VALUE
DEVICE_FAILURE = ExceptionCode.SERVER_DEVICE_FAILURE
DEVICE_BUSY = ExceptionCode.SERVER_DEVICE_BUSY
MiB = 1 << 20


TEXT_MAX = 60  # characters of the error_text registers


def short(text: str) -> str:
    """``text`` cut to fit the error_text registers, marked when cut."""
    return text if len(text) <= TEXT_MAX else text[:TEXT_MAX - 3] + "..."


class Reject(Exception):
    """A write the controller refuses: answered with Modbus exception ``exc_code``."""

    def __init__(self, exc_code: int, error: ErrorCode = ErrorCode.NONE, text: str = "",
                 chunk: int | None = None) -> None:
        super().__init__(text or error.name)
        self.exc_code, self.error, self.text, self.chunk = exc_code, error, text, chunk


@dataclass
class ControllerConfig:
    """What a controller is and what it accepts; identity registers publish the limits."""

    state_dir: Path
    hardware_id: str
    trust_store_path: Path
    max_package: int = 6 * MiB
    max_transfer_s: int = 3600
    idle_timeout_s: int = 600
    commit_deadline_s: int = 60
    link_baud: int = 0
    clock: Clock = field(default_factory=Clock)
    crash_at: str | None = None  # tests: SIGKILL the process at this named point


class FlashMachine:
    """States of DESIGN.md section 4 "Controller protocol"; thread-safe.

    Requests arrive on the server thread and are answered at once; VERIFY, SELF_TEST,
    ACTIVATE, COMMIT and ROLLBACK run as one background job at a time (status shows
    ``last_cmd_result`` = running meanwhile, and further writes get exception 06).
    """

    def __init__(self, config: ControllerConfig, on_engine: Callable[[], None]) -> None:
        self.cfg = config
        self.store = SlotStore(config.state_dir)
        self.lock = threading.RLock()
        self.on_engine = on_engine  # the runtime restarts its statistics on a model change
        self.disk = DiskState()
        self.state = State.IDLE
        self.engine: Engine | None = None
        self.previous_engine: Engine | None = None
        self.transfer: Transfer | None = None
        self.staged_slot: str | None = None
        self.staged_info: SlotInfo | None = None
        self.staged_files: dict[str, Path] = {}
        self.staged_engine: Engine | None = None
        self.flags = StagedFlag(0)
        self.deadline: float | None = None
        self.error, self.error_text, self.error_chunk = ErrorCode.NONE, "", None
        self.cmd_seq = self.cmd_code = 0
        self.cmd_result = 0
        self._last_block: tuple[int, Reject | None] | None = None
        self._job: threading.Thread | None = None

    # -- helpers ------------------------------------------------------------------------
    def crash_point(self, name: str) -> None:
        """Tests name a point to die at, like a power cut there (SIGKILL: no clean-up)."""
        if self.cfg.crash_at == name:
            log.warning("crash point %s reached: killing the process", name)
            os.kill(os.getpid(), signal.SIGKILL)

    def fail(self, error: ErrorCode, text: str, chunk: int | None = None,
             state: State | None = None) -> None:
        with self.lock:
            self.error, self.error_text, self.error_chunk = error, short(text), chunk
            if state is not None:
                self.state = state
        log.warning("controller error %s: %s", error.name, text)

    def rest_state(self) -> State:
        """ACTIVE when a model runs, else IDLE."""
        return State.ACTIVE if self.engine is not None else State.IDLE

    def clear_staging(self) -> None:
        self.transfer, self.staged_info, self.staged_files = None, None, {}
        self.staged_engine, self.staged_slot, self.flags = None, None, StagedFlag(0)

    @property
    def busy(self) -> bool:
        return self._job is not None and self._job.is_alive()

    def start_job(self, name: str, fn: Callable[[], None]) -> None:
        def run() -> None:
            try:
                fn()
                result = 0
            except Reject as exc:
                self.fail(exc.error, exc.text, exc.chunk)
                result = int(exc.error)
            except Exception as exc:  # noqa: BLE001 - a job must always report its end
                log.exception("controller job %s failed", name)
                self.fail(ErrorCode.STORAGE, f"{name}: {exc}", state=self.rest_state())
                result = int(ErrorCode.STORAGE)
            with self.lock:
                self.cmd_result = result
        self.cmd_result = RESULT_RUNNING
        self._job = threading.Thread(target=run, name=f"controller-{name}", daemon=True)
        self._job.start()

    def join(self, timeout: float = 30.0) -> None:
        """Wait for a running job (at shutdown)."""
        job = self._job
        if job is not None:
            job.join(timeout)

    # -- requests -----------------------------------------------------------------------
    def command_block(self, regs: list[int]) -> None:
        """A full command block (registers 0-25, one function-16 write)."""
        if crc32_words(regs[:24]) != ((regs[24] << 16) | regs[25]):
            raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_COMMAND, "command block CRC-32 mismatch")
        key = crc32_words(regs)
        with self.lock:
            if self._last_block is not None and self._last_block[0] == key \
                    and regs[1] == self.cmd_seq:
                if self._last_block[1] is not None:
                    raise self._last_block[1]
                return  # the master repeats a command whose answer it lost: not run again
            try:
                self._command(regs[0], regs[1], regs)
                self._last_block = (key, None)
            except Reject as exc:
                self._last_block = (key, exc) if exc.exc_code != DEVICE_BUSY else None
                raise

    def command_bare(self, code: int) -> None:
        """One register written alone (function 6): commands without arguments."""
        if code not in set(BARE_COMMANDS):
            raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_COMMAND, f"command {code} needs the full "
                         "command block")
        with self.lock:
            self._command(code, self.cmd_seq, None)

    def _command(self, code: int, seq: int, regs: list[int] | None) -> None:
        from app.devices.controller import jobs  # jobs needs this module's classes

        if self.busy:
            raise Reject(DEVICE_BUSY, ErrorCode.NONE, "busy")
        try:
            cmd = Command(code)
        except ValueError:
            raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_COMMAND, f"unknown command {code}") from None
        self.cmd_seq, self.cmd_code, self.cmd_result = seq, code, 0
        try:
            if cmd is Command.BEGIN:
                self._begin(regs or [])
            elif cmd is Command.ABORT:
                jobs.abort(self)
            elif cmd is Command.RESET_STATS:
                self.on_engine()
            else:
                jobs.start(self, cmd, regs)
        except Reject as exc:
            self.cmd_result = int(exc.error)
            self.fail(exc.error, exc.text, exc.chunk)
            raise

    def _begin(self, regs: list[int]) -> None:
        if self.state in (State.ACTIVE_UNCONFIRMED,):
            raise Reject(DEVICE_FAILURE, ErrorCode.BAD_STATE, "COMMIT or ROLLBACK first")
        fields = {f.name: r.decode(f, regs, 0) for f in r.COMMAND}
        total, length = fields["cmd_arg0"], fields["cmd_arg1"]
        flags, size, sha = fields["cmd_flags"], fields["cmd_chunk_size"], fields["cmd_sha256"]
        if not 0 < size <= r.MAX_CHUNK or flags & ~int(BeginFlag.ZLIB) or sha is None:
            raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_ARGUMENT, "bad chunk size, flags or hash")
        if not 0 < total <= self.cfg.max_package or not 0 < length <= self.cfg.max_package:
            raise Reject(ILLEGAL_VALUE, ErrorCode.TOO_LARGE, f"package over "
                         f"{self.cfg.max_package} bytes")
        if -(-total // size) > r.MAX_DIGESTS:
            raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_ARGUMENT, "too many chunks; use larger")
        if not flags and total != length:
            raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_ARGUMENT, "lengths differ, no zlib")
        self.clear_staging()
        self.transfer = Transfer(total, length, sha, size, bool(flags & BeginFlag.ZLIB),
                                 clock=self.cfg.clock.monotonic)
        self.staged_slot = self.disk.other(self.disk.active)
        self.state = State.RECEIVING
        self.error, self.error_text, self.error_chunk = ErrorCode.NONE, "", None
        log.info("transfer begun: %d bytes in chunks of %d, package %s", total, size, sha[:12])

    def chunk(self, regs: list[int]) -> None:
        """A transfer window write: offset, length, CRC-32, data."""
        offset, length = (regs[0] << 16) | regs[1], regs[2]
        crc = (regs[3] << 16) | regs[4]
        data_regs = regs[r.WINDOW_HEADER_REGS:]
        if len(data_regs) != -(-length // 2):
            raise Reject(ILLEGAL_VALUE, ErrorCode.CHUNK_LENGTH, f"{length} bytes do not fill "
                         f"{len(data_regs)} data registers")
        with self.lock:
            if self.busy:
                raise Reject(DEVICE_BUSY)
            if self.state is not State.RECEIVING or self.transfer is None:
                self.fail(ErrorCode.BAD_STATE, "chunk refused: no transfer in progress")
                raise Reject(DEVICE_FAILURE, ErrorCode.BAD_STATE, "no transfer in progress")
            try:
                self.transfer.accept(offset, words_bytes(data_regs, length), crc)
            except TransferError as exc:
                self.fail(exc.code, exc.text, exc.chunk)
                raise Reject(ILLEGAL_VALUE, exc.code, exc.text, exc.chunk) from None
            if self.transfer.complete:
                self.state, self.flags = State.STAGED, StagedFlag.COMPLETE

    def digest(self, index: int) -> int:
        """CRC-32 of stored chunk ``index`` (0 when there is none)."""
        with self.lock:
            return self.transfer.stored_digest(index) if self.transfer is not None else 0

    # -- time ---------------------------------------------------------------------------
    def tick(self) -> None:
        """Deadlines: an unconfirmed activation past its deadline reverts; a stalled transfer
        is dropped. Called a few times a second by the runtime's loop."""
        from app.devices.controller import jobs

        now = self.cfg.clock.monotonic()
        with self.lock:
            if self.busy:
                return
            if self.state is State.ACTIVE_UNCONFIRMED and self.deadline is not None \
                    and now > self.deadline:
                jobs.revert(self, ErrorCode.COMMIT_TIMEOUT, "no COMMIT before the deadline: "
                            "reverted")
            t = self.transfer
            if self.state is State.RECEIVING and t is not None and (
                    now - t.last_chunk_at > self.cfg.idle_timeout_s
                    or now - t.started_at > self.cfg.max_transfer_s):
                self.clear_staging()
                self.fail(ErrorCode.TRANSFER_TIMEOUT, "transfer stalled: dropped",
                          state=self.rest_state())
