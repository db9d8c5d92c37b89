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
from app.devices.controller.guard import CommandGuard, Refused, Session
from app.devices.controller.shadow import Shadow
from app.devices.protocol import registers as r
from app.devices.protocol.codes import Command, ErrorCode, State
from app.devices.protocol.proof import CommandBlock, session_of
from app.devices.protocol.words import crc32_words, words_u32

WRITE_ONE, WRITE_MANY = 6, 16

#: Commands that run as a background job, and what starts each (after its state check).
_JOBS: dict[Command, Callable[[FlashState, CommandBlock], None]] = {
    Command.VERIFY: lambda m, _b: staging.start_verify(m),
    Command.SELF_TEST: lambda m, _b: staging.start_self_test(m),
    Command.ACTIVATE: lambda m, b: activation.start_activate(m, b.arg0),
    Command.COMMIT: lambda m, _b: activation.start_commit(m),
    Command.ROLLBACK: lambda m, _b: activation.start_rollback(m),
}


def _name(code: int) -> str:
    try:
        return Command(code).name
    except ValueError:
        return f"command {code}"


class FlashMachine(FlashState):
    """States of DESIGN.md section 4 "Controller protocol"; thread-safe.

    Requests arrive on the server thread and are answered at once; VERIFY, SELF_TEST,
    ACTIVATE, COMMIT and ROLLBACK run as one background job at a time (status shows
    ``last_cmd_result`` = running meanwhile, and further writes get exception 06). Every
    command carries the workstation's signed proof and, within a transfer, its session
    (:mod:`.guard`); a refusal of either is counted, never run.
    """

    def __init__(self, config: ControllerConfig, on_engine: Callable[[], None]) -> None:
        super().__init__(config, on_engine)
        self.guard = CommandGuard(config.state_dir, config.hardware_id,
                                  config.trust_store_path, config.clock,
                                  config.session_takeover_s)
        self._last_block: tuple[int, Reject | None] | None = None
        self.shadow = Shadow(self)  # the staged model beside the active one (SHADOW)

    # -- requests -----------------------------------------------------------------------
    def command_block(self, regs: list[int]) -> None:
        """A full command block (registers 0-85, one function-16 write)."""
        n = r.COMMAND_COUNT - 2
        if crc32_words(regs[:n]) != words_u32(regs[n:n + 2]):
            raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_COMMAND, "command block CRC-32 mismatch")
        key = crc32_words(regs)
        block = CommandBlock.decode(regs)
        with self.lock:
            if self._last_block is not None and self._last_block[0] == key \
                    and regs[1] == self.cmd_seq:
                if self._last_block[1] is not None:
                    raise self._last_block[1]
                return  # the master repeats a command whose answer it lost: not run again
            if self.busy:  # before the proof: a busy answer is retried with the same proof
                raise Reject(DEVICE_BUSY, ErrorCode.NONE, "busy")
            try:
                self.guard.check_proof(block)
                self._check_session(block)
            except Refused as exc:
                self.guard.record(exc, command=block.command, function=WRITE_MANY,
                                  key_id=block.key_id)
                raise
            try:
                self._command(block)
                self._last_block = (key, None)
            except Reject as exc:
                self._last_block = (key, exc) if exc.exc_code != DEVICE_BUSY else None
                raise

    def command_unsigned(self, code: int, function: int) -> None:
        """A write into the command block that is not a whole signed block (function 6 into
        register 0, or a short function-16 write): refused, counted."""
        exc = Refused(ILLEGAL_VALUE, ErrorCode.PROOF_MISSING, f"command {code} without a "
                      "signed proof: protocol 2 needs the full block")
        with self.lock:
            self.guard.record(exc, command=code, function=function)
        raise exc

    def _check_session(self, block: CommandBlock) -> None:
        """One transfer session at a time, owned by the key whose BEGIN opened it."""
        g, now = self.guard, self.cfg.clock.monotonic()
        if g.session is not None and not self.in_flash:
            g.session = None  # the transfer it belonged to ended (commit, revert, drop)
        live = g.session
        code = block.command
        if code in (Command.RESET_STATS, Command.SHADOW_STOP):
            return  # the statistics and stopping a comparison are no part of a transfer
        if code == Command.BEGIN:
            # The owner (the key that began it) may resume its stream or begin anew.
            if live is None or g.abandoned(now) or live.key_id == block.key_id:
                return
            raise g.busy("BEGIN refused")
        if live is None:
            if block.session:
                raise g.mismatch(f"session {block.session:08x} is not live")
            return
        if block.session == live.id:
            live.last_seen = now
            return
        if block.session == 0:
            if g.abandoned(now) and code in (Command.ROLLBACK, Command.ABORT):
                return  # an abandoned session may be ended by another master
            raise g.busy(f"{_name(code)} refused")
        raise g.mismatch(f"session {block.session:08x} is not the live one")

    def _same_stream(self, block: CommandBlock) -> bool:
        t = self.transfer
        return t is not None and (t.total, t.package_len, t.sha256, t.chunk_size) == (
            block.arg0, block.arg1, block.sha256, block.chunk_size) and \
            t.compressed == bool(block.flags & 1)

    def _command(self, block: CommandBlock) -> None:
        code, seq = block.command, block.seq
        try:
            cmd = Command(code)
        except ValueError:
            raise Reject(ILLEGAL_VALUE, ErrorCode.BAD_COMMAND, f"unknown command {code}") from None
        self.cmd_seq, self.cmd_code, self.cmd_result = seq, code, 0
        try:
            if cmd is Command.BEGIN:
                staging.begin(self, block, resume=self.guard.session is not None and
                              self.guard.session.key_id == block.key_id and
                              self._same_stream(block))
                self.guard.session = Session(session_of(block.signature), block.key_id,
                                             self.cfg.clock.monotonic())
            elif cmd is Command.ABORT:
                self._abort()
            elif cmd is Command.RESET_STATS:
                self.on_engine()
            elif cmd is Command.SHADOW:
                self.shadow.start()
            elif cmd is Command.SHADOW_STOP:
                self.shadow.stop()
            else:
                _JOBS[cmd](self, block)
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
        """A transfer window write: session, offset, length, CRC-32, data."""
        session = words_u32(regs[0:2])
        with self.lock:
            live = self.guard.session
            if self.state is State.RECEIVING and (live is None or live.id != session):
                exc = self.guard.mismatch(f"chunk for session {session:08x}, not the live one")
                self.guard.record(exc, command=0, function=WRITE_MANY)
                raise exc
            staging.accept_chunk(self, regs)
            if live is not None:
                live.last_seen = self.cfg.clock.monotonic()

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
