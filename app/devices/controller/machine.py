"""The flash state machine's front: commands and chunks in, answered at once; long steps
start as background jobs of :mod:`.staging` and :mod:`.activation`."""

from __future__ import annotations

from collections.abc import Callable

from app.devices.controller import activation, staging
from app.devices.controller.flashstate import (
    DEVICE_BUSY,
    ILLEGAL_VALUE,
    ControllerConfig,
    FlashState,
    Reject,
)
from app.devices.protocol.codes import BARE_COMMANDS, Command, ErrorCode, State
from app.devices.protocol.words import crc32_words

#: Commands that run as a background job, and what starts each (after its state check).
_JOBS: dict[Command, Callable[[FlashState, list[int] | None], None]] = {
    Command.VERIFY: lambda m, _regs: staging.start_verify(m),
    Command.SELF_TEST: lambda m, _regs: staging.start_self_test(m),
    Command.ACTIVATE: activation.start_activate,
    Command.COMMIT: lambda m, _regs: activation.start_commit(m),
    Command.ROLLBACK: lambda m, _regs: activation.start_rollback(m),
}


class FlashMachine(FlashState):
    """States of DESIGN.md section 4 "Controller protocol"; thread-safe.

    Requests arrive on the server thread and are answered at once; VERIFY, SELF_TEST,
    ACTIVATE, COMMIT and ROLLBACK run as one background job at a time (status shows
    ``last_cmd_result`` = running meanwhile, and further writes get exception 06).
    """

    def __init__(self, config: ControllerConfig, on_engine: Callable[[], None]) -> None:
        super().__init__(config, on_engine)
        self._last_block: tuple[int, Reject | None] | None = None

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
        if self.busy:
            raise Reject(DEVICE_BUSY, ErrorCode.NONE, "busy")
        try:
            cmd = Command(code)
        except ValueError:
            raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_COMMAND, f"unknown command {code}") from None
        self.cmd_seq, self.cmd_code, self.cmd_result = seq, code, 0
        try:
            if cmd is Command.BEGIN:
                staging.begin(self, regs or [])
            elif cmd is Command.ABORT:
                self._abort()
            elif cmd is Command.RESET_STATS:
                self.on_engine()
            else:
                _JOBS[cmd](self, regs)
        except Reject as exc:
            self.cmd_result = int(exc.error)
            self.fail(exc.error, exc.text, exc.chunk)
            raise

    def _abort(self) -> None:
        """Drop the transfer or staged package; an unconfirmed activation reverts."""
        if self.state is State.ACTIVE_UNCONFIRMED:
            activation.revert(self, ErrorCode.NONE, "aborted: reverted")
            return
        if self.state in (State.VERIFYING, State.SELF_TEST):
            raise Reject(DEVICE_BUSY)
        staging.discard(self)
        self.state = self.rest_state()

    def chunk(self, regs: list[int]) -> None:
        """A transfer window write: offset, length, CRC-32, data."""
        staging.accept_chunk(self, regs)

    def digest(self, index: int) -> int:
        """CRC-32 of stored chunk ``index`` (0 when there is none)."""
        with self.lock:
            return self.transfer.stored_digest(index) if self.transfer is not None else 0

    # -- time ---------------------------------------------------------------------------
    def tick(self) -> None:
        """Deadlines: an unconfirmed activation past its deadline reverts; a stalled transfer
        is dropped. Called a few times a second by the runtime's loop."""
        now = self.cfg.clock.monotonic()
        with self.lock:
            if self.busy:
                return
            activation.check_deadline(self, now)
            staging.drop_stalled(self, now)
