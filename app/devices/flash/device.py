"""A controller as the workstation sees it: read identity, status, live data; send commands."""

from __future__ import annotations

import logging
import random
import time

import numpy as np

from app.core.progress import NEVER_CANCELLED, CancelToken
from app.devices.flash.errors import (
    CommandRefused,
    ControllerError,
    FlashFailed,
    ProtocolError,
    SignerMissing,
)
from app.devices.flash.views import (
    FeatureStats,
    Identity,
    Live,
    Security,
    ShadowStatus,
    Status,
    Waveform,
)
from app.devices.protocol import events as ev
from app.devices.protocol import registers as r
from app.devices.protocol.codes import Command, ErrorCode, SessionState
from app.devices.protocol.events import Event
from app.devices.protocol.proof import CommandBlock, CommandSigner, session_of
from app.devices.protocol.words import (
    bytes_words,
    u32_words,
    words_f32,
    words_u32,
)
from app.fieldbus import (
    DeviceError,
    DeviceRefused,
    Endpoint,
    ExceptionCode,
    LinkTimeout,
    ModbusLink,
    RetryPolicy,
)

log = logging.getLogger(__name__)

PAGE_TRIES = 3
BLOCK = 124  # registers per read: at most 125; even keeps float32 pairs together
#: A proof whose challenge another master's accepted proof consumed first is signed again
#: on the new challenge, this many times in all.
PROOF_TRIES = 3


def _name(code: int) -> str:
    try:
        return Command(code).name
    except ValueError:
        return f"command {code}"


class ControllerClient:
    """Requests of the PlantML controller protocol over one :class:`ModbusLink`.

    Every read of the identity or status page is checked with its CRC-32 (and re-read a
    few times if it fails), so a frame corrupted past the Modbus CRC cannot pass. Commands
    are signed by ``signer`` on the device's current challenge (protocol 2); ``session`` is
    the transfer session this client's BEGIN opened (0: none).
    """

    def __init__(self, link: ModbusLink, signer: CommandSigner | None = None) -> None:
        self.link = link
        self.signer = signer
        self.session = 0
        self._hardware_id: str | None = None
        self._seq = random.randint(1, 0xFFFE)

    @classmethod
    def open(cls, endpoint: Endpoint, policy: RetryPolicy | None = None,
             signer: CommandSigner | None = None) -> ControllerClient:
        return cls(ModbusLink(endpoint, policy), signer)

    def close(self) -> None:
        self.link.close()

    def __enter__(self) -> ControllerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reads --------------------------------------------------------------------------
    def _page(self, base: int, count: int, crc: r.Field, what: str) -> list[int]:
        for _ in range(PAGE_TRIES):
            regs = self.link.read_input(base, count, what)
            if r.sealed(regs, crc, base):
                return regs
            self.link.stats.garbled += 1
        raise ProtocolError(f"{what}: the page at register {base} failed its CRC-32 "
                            f"{PAGE_TRIES} times", step=what, register=base)

    def identity(self) -> Identity:
        """The identity block; raises ProtocolError if this is no PlantML controller."""
        base, crc = r.IDENTITY_BASE, r.FIELDS["identity_crc"]
        for _ in range(PAGE_TRIES):
            regs = self.link.read_input(base, r.IDENTITY_COUNT, "identity")
            if r.sealed(regs, crc, base):
                break
            self.link.stats.garbled += 1
        magic = r.decode(r.FIELDS["magic"], regs, base)
        if magic != r.MAGIC:
            raise ProtocolError(f"{self.link.endpoint} is not a PlantML controller (magic "
                                f"{magic!r})", step="identity", register=0)
        if not r.sealed(regs, crc, base):
            raise ProtocolError(f"identity: the page failed its CRC-32 {PAGE_TRIES} times",
                                step="identity", register=base)
        ident = Identity.decode(regs)
        if ident.protocol_version == 1:
            raise ProtocolError(
                f"the controller at {self.link.endpoint} ({ident.hardware_id}) speaks PlantML "
                "controller protocol 1, which obeys unsigned commands from any Modbus master; "
                f"this workstation speaks protocol {r.PROTOCOL_VERSION} only: update its "
                "runtime (plantml-edge) and give it the trust file of 'plantml keys export'",
                step="identity", register=2)
        if ident.protocol_version == 2:
            raise ProtocolError(
                f"the controller at {self.link.endpoint} ({ident.hardware_id}) speaks PlantML "
                "controller protocol 2, which keeps no windows for capture; this workstation "
                f"speaks protocol {r.PROTOCOL_VERSION} only: update its runtime (plantml-edge)",
                step="identity", register=2)
        if ident.protocol_version != r.PROTOCOL_VERSION:
            raise ProtocolError(f"the controller at {self.link.endpoint} speaks PlantML "
                                f"controller protocol {ident.protocol_version}; this "
                                f"workstation speaks {r.PROTOCOL_VERSION}", step="identity",
                                register=2)
        self._hardware_id = ident.hardware_id
        return ident

    def status(self) -> Status:
        """The status block (one read, CRC-checked)."""
        return Status.decode(self._page(r.STATUS_BASE, r.STATUS_COUNT, r.FIELDS["status_crc"],
                                        "status"))

    def security(self) -> Security:
        """The security block: the current challenge, the session, the refusal record."""
        return Security.decode(self._page(r.SECURITY_BASE, r.SECURITY_COUNT,
                                          r.FIELDS["security_crc"], "security"))

    def shadow_status(self) -> ShadowStatus | None:
        """The shadow block (section 6d), CRC-checked; None from a controller without shadow
        mode (exception 02 at its address)."""
        try:
            regs = self._page(r.SHADOW_BASE, r.SHADOW_COUNT, r.FIELDS["shadow_crc"], "shadow")
        except DeviceRefused as exc:
            if exc.exception_code == ExceptionCode.ILLEGAL_DATA_ADDRESS:
                return None
            raise
        return ShadowStatus.decode(regs)

    def _security_or_none(self) -> Security | None:
        try:
            return self.security()
        except DeviceError:
            return None

    def events(self, after: int = 0) -> list[Event]:
        """The device's events with a sequence number above ``after``, oldest first (at most
        the ring's depth; an event overwritten while being read is left out, and an older
        controller without the event log gives none)."""
        try:
            head = self.link.read_input(ev.EVENT_BASE, ev.EVENT_HEAD, "events")
        except DeviceRefused:
            return []
        newest = words_u32(head[0:2])
        out = []
        for seq in range(max(after + 1, newest - ev.EVENT_DEPTH + 1, 1), newest + 1):
            event = Event.decode(self.link.read_input(ev.address(seq), ev.EVENT_REGS, "events"))
            if event.seq == seq:
                out.append(event)
        return out

    def _floats(self, base: int, n: int, what: str) -> np.ndarray:
        regs: list[int] = []
        for start in range(base, base + 2 * n, BLOCK):
            regs += self.link.read_input(start, min(BLOCK, base + 2 * n - start), what)
        return words_f32(regs)

    def live(self, features: bool = True) -> Live:
        """Latest prediction and scores; with ``features`` also the feature tables."""
        head = self.link.read_input(r.LIVE_BASE, r.LIVE_HEAD_COUNT, "live")
        v = {f.name: r.decode(f, head, r.LIVE_BASE) for f in r.LIVE if f.kind != "f32[]"}
        reason = v["input_reason"]
        sf = r.FIELDS["scores"]
        scores = words_f32(head[sf.address - r.LIVE_BASE: sf.end - r.LIVE_BASE])[:v["n_scores"]]
        n = v["n_features"]
        empty = np.zeros(0)
        stats = FeatureStats(v["stats_count"],
                             self._floats(700, n, "feature mean") if features and n else empty,
                             self._floats(1000, n, "feature m2") if features and n else empty)
        return Live(inference_count=v["inference_count"], prediction=v["prediction"],
                    scores=scores, features=self._floats(400, n, "features")
                    if features and n else empty, stats=stats, latency_us=v["latency_us"],
                    input_reason=reason, invalid_count=v["invalid_count"])

    def waveform(self, tries: int = 3) -> Waveform:
        """One whole waveform buffer: the sequence counter is read before and after, and the
        read is repeated if the buffer changed meanwhile."""
        for _ in range(tries):
            head = self.link.read_input(r.WAVE_BASE, r.WAVE_HEAD_COUNT, "waveform")
            seq, length, channels = head[0], head[1], head[2]
            data = self._floats(r.WAVE_BASE + r.WAVE_HEAD_COUNT, length * channels, "waveform")
            if self.link.read_input(r.WAVE_BASE, 1, "waveform")[0] == seq:
                return Waveform(seq, data.astype(np.float32).reshape(channels, length),
                                float(words_f32(head[4:6])[0]))
        raise ControllerError("the waveform buffer changed during every read; poll faster or "
                              "with a shorter buffer", step="waveform", register=r.WAVE_BASE)

    def digests(self, first: int, n: int) -> list[int]:
        """CRC-32 of stored chunks ``first`` .. ``first + n - 1`` as the controller computes
        them from its stored bytes (read-back verification)."""
        out: list[int] = []
        per = BLOCK // 2
        for i in range(first, first + n, per):
            k = min(per, first + n - i)
            regs = self.link.read_input(r.DIGEST_BASE + 2 * i, 2 * k, "read-back")
            out += [words_u32(regs[2 * j:2 * j + 2]) for j in range(k)]
        return out

    # -- writes -------------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq = self._seq % 0xFFFE + 1
        return self._seq

    def send(self, cmd: Command, *, arg0: int = 0, arg1: int = 0, flags: int = 0,
             chunk_size: int = 0, sha256: str | None = None) -> int:
        """Write one signed command block (protocol 2, section 7); returns its sequence
        number. A BEGIN opens this client's session; every other command but RESET_STATS
        carries it. Raises CommandRefused when the controller refuses the proof or the
        session, DeviceRefused (with the controller's reason) for any other refusal."""
        if self.signer is None:
            raise SignerMissing(f"{cmd.name} needs the workstation's signed proof; this "
                                "client has no command signer", step=cmd.name)
        if self._hardware_id is None:
            self.identity()
        assert self._hardware_id is not None
        seq = self._next_seq()
        # BEGIN opens a session; RESET_STATS and SHADOW_STOP are no part of one.
        session = 0 if cmd in (Command.BEGIN, Command.RESET_STATS, Command.SHADOW_STOP) \
            else self.session
        for attempt in range(PROOF_TRIES):
            before = self.security()
            if session and before.session_state is SessionState.NONE:
                # Our session ended on the device (committed, reverted, dropped): the
                # command goes out as one outside a session.
                session = self.session = 0
            block = CommandBlock(int(cmd), seq, arg0, arg1, flags, chunk_size, sha256,
                                 session, before.nonce, hardware_id=self._hardware_id
                                 ).signed_by(self.signer)
            try:
                self.link.write(r.COMMAND_BASE, block.registers(), what=cmd.name)
            except DeviceRefused as exc:
                after = self._security_or_none()
                if after is None or after.refused_count == before.refused_count:
                    raise self._explained(exc) from None
                if after.last_refusal_code == ErrorCode.PROOF_STALE and \
                        attempt + 1 < PROOF_TRIES:
                    log.info("%s: the challenge changed meanwhile; signing again", cmd.name)
                    continue
                raise self._refused(exc, after, cmd.name) from None
            if cmd is Command.BEGIN:
                self.session = session_of(block.signature)
            return seq
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _refused(exc: DeviceRefused, sec: Security, what: str) -> CommandRefused:
        try:
            name = ErrorCode(sec.last_refusal_code).name.lower()
        except ValueError:
            name = f"code {sec.last_refusal_code}"
        out = CommandRefused(f"the controller refused {what} ({name}): "
                             f"{sec.last_refusal_text}", step=what, register=exc.register,
                             exception_code=exc.exception_code, function=exc.function)
        out.code = sec.last_refusal_code
        return out

    def wait(self, seq: int, timeout_s: float, poll_s: float = 0.05,
             cancel: CancelToken = NEVER_CANCELLED) -> Status:
        """Poll until command ``seq`` finished; raises FlashFailed if it failed, Cancelled
        if ``cancel`` is set meanwhile (the command itself goes on on the controller)."""
        deadline = time.monotonic() + timeout_s
        pause = 0.005  # most commands end within milliseconds; slow ones are polled gently
        while True:
            st = self.status()
            if st.last_cmd_seq == seq and not st.running:
                if st.last_cmd_result:
                    raise FlashFailed(f"{_name(st.last_cmd_code)} failed on the controller: "
                                      f"{st.reason}", step="command", chunk=st.error_chunk,
                                      status=st)
                return st
            if time.monotonic() > deadline:
                raise LinkTimeout(f"the controller did not finish command {seq} within "
                                  f"{timeout_s:g} s (state {st.state.name})", step="command",
                                  status=st)
            cancel.raise_if_cancelled()
            time.sleep(pause)
            pause = min(poll_s, pause * 2)

    def run(self, cmd: Command, timeout_s: float = 60.0, cancel: CancelToken = NEVER_CANCELLED,
            **kw: int | str | None) -> Status:
        """Send ``cmd`` and wait for it to finish."""
        return self.wait(self.send(cmd, **kw), timeout_s, cancel=cancel)  # type: ignore[arg-type]

    def write_chunk(self, offset: int, data: bytes, crc: int) -> None:
        """One transfer window write (function 16, one request) in this client's session."""
        regs = [*u32_words(self.session), *u32_words(offset), len(data), *u32_words(crc),
                *bytes_words(data)]
        try:
            self.link.write(r.WINDOW_BASE, regs, what="transfer")
        except DeviceRefused as exc:
            raise self._explained(exc) from None

    def _explained(self, exc: DeviceRefused) -> DeviceRefused:
        """The refusal with the controller's own reason (from its status block) added."""
        st = self._status_or_none()
        if st is None or not st.reason:
            return exc
        return DeviceRefused(f"{exc}; controller says: {st.reason}", step=exc.step,
                             register=exc.register, exception_code=exc.exception_code,
                             function=exc.function,
                             chunk=st.error_chunk, status=st)

    def _status_or_none(self) -> Status | None:
        try:
            return self.status()
        except DeviceError:
            return None

    def shadow(self) -> ShadowStatus | None:
        """SHADOW: run the self-tested staged package beside the active model (in this
        client's session); returns the shadow block read back."""
        self.send(Command.SHADOW)
        return self.shadow_status()

    def shadow_stop(self) -> ShadowStatus | None:
        """SHADOW_STOP: end the comparison (the staged package stays staged)."""
        self.send(Command.SHADOW_STOP)
        return self.shadow_status()

    def rollback(self, timeout_s: float = 60.0) -> Status:
        """Go back to the previous model (or revert an unconfirmed activation)."""
        return self.run(Command.ROLLBACK, timeout_s)
