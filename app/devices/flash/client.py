"""Flash a verified package into a controller: chunks, read-back, resume, verify, commit."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import Cancelled
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.devices.flash.device import ControllerClient
from app.devices.flash.errors import (
    FlashCancelled,
    FlashFailed,
    SignerMissing,
    VerificationFailed,
)
from app.devices.flash.payload import PackageFacts, TransferPlan, check_fit, plan_transfer
from app.devices.flash.views import Status
from app.devices.protocol.codes import (
    BeginFlag,
    Command,
    ErrorCode,
    SessionState,
    StagedFlag,
    State,
)
from app.devices.protocol.proof import CommandSigner
from app.fieldbus import (
    DeviceError,
    Endpoint,
    LinkLost,
    LinkStats,
    LinkTimeout,
    ModbusLink,
    RetryPolicy,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FlashOptions:
    """Knobs of one flash; the defaults suit both TCP and RTU."""

    compress: bool | None = None       # None: when the controller declares zlib and it helps
    chunk_size: int | None = None      # None: the largest (236 bytes)
    commit_deadline_s: int | None = None  # None: the controller's default
    readback_every: int = 64           # chunks between reads of the acknowledged offset
    max_resumes: int = 5               # reconnect-and-continue after a lost link, per flash
    resume_pause_s: float = 0.2
    step_timeout_s: float = 120.0      # VERIFY, SELF_TEST, ACTIVATE, COMMIT each


@dataclass(frozen=True)
class FlashOutcome:
    """The result as read back from the controller after the last step."""

    endpoint: str
    package: str
    package_sha256: str
    status: Status
    package_bytes: int
    wire_bytes: int
    compressed: bool
    chunk_size: int
    chunks: int
    chunks_sent: int
    resumes: int
    estimated_s: float
    transfer_s: float
    duration_s: float
    link: LinkStats

    @property
    def ok(self) -> bool:
        """True if the controller runs this package, committed."""
        active = self.status.active
        return self.status.state is State.ACTIVE and active is not None and \
            active.sha256 == self.package_sha256


class Flasher:
    """One flash of one plan over one client (see :func:`flash_package`)."""

    def __init__(self, client: ControllerClient, plan: TransferPlan, options: FlashOptions,
                 progress: ProgressFn, cancel: CancelToken) -> None:
        self.client, self.plan, self.opt = client, plan, options
        self.progress, self.cancel = progress, cancel
        self.chunks_sent = self.resumes = 0
        self.transfer_s = 0.0

    def _ours(self, st: Status) -> bool:
        return st.staged is not None and st.staged.sha256 == self.plan.sha256 and \
            st.transfer_total == len(self.plan.wire) and st.chunk_size == self.plan.chunk_size

    def start_offset(self) -> int:
        """Where to go on: the acknowledged offset of our own transfer, or 0 after BEGIN.

        Within one flash the client holds its session and goes on; a later flash (a new
        client) sends BEGIN for the same stream, which the controller takes as its owner
        resuming (same key, same stream: the bytes received are kept)."""
        st = self.client.status()
        ours = st.state in (State.RECEIVING, State.STAGED) and self._ours(st) and \
            st.staged_flags in (StagedFlag(0), StagedFlag.COMPLETE)
        if ours and self.client.session:
            log.info("resuming the transfer at byte %d of %d", st.acked_offset, st.transfer_total)
            return st.acked_offset
        p = self.plan
        self.client.send(Command.BEGIN, arg0=len(p.wire), arg1=len(p.package),
                         flags=int(BeginFlag.ZLIB) if p.compressed else 0,
                         chunk_size=p.chunk_size, sha256=p.sha256)
        if not ours:
            return 0
        st = self.client.status()
        log.info("resuming the transfer at byte %d of %d", st.acked_offset, st.transfer_total)
        return st.acked_offset if self._ours(st) else 0

    def _send_from(self, offset: int) -> None:
        plan, every = self.plan, self.opt.readback_every
        # All acknowledged (the cut came after the last chunk): nothing left to send.
        first = plan.n_chunks if offset >= len(plan.wire) else offset // plan.chunk_size
        for index in range(first, plan.n_chunks):
            if self.cancel.cancelled:
                raise Cancelled("cancelled by the user")
            off, data, crc = plan.chunk(index)
            try:
                self.client.write_chunk(off, data, crc)
            except DeviceError as exc:
                exc.chunk = index
                raise
            self.chunks_sent += 1
            end = off + len(data)
            if (index + 1) % every == 0 or index == plan.n_chunks - 1:
                st = self.client.status()
                if st.acked_offset != end:  # read-back of the acknowledgement
                    raise FlashFailed(f"chunk {index}: the controller acknowledged "
                                      f"{st.acked_offset} bytes, {end} were sent",
                                      step="transfer", chunk=index, status=st)
            self.progress(0.02 + 0.83 * end / len(plan.wire), f"chunk {index + 1} of "
                          f"{plan.n_chunks}")

    def transfer(self) -> None:
        """Send every chunk; a lost link is resumed from the acknowledged offset."""
        offset = None
        while True:
            try:
                if offset is None:
                    offset = self.start_offset()
                self._send_from(offset)
                return
            except (LinkLost, LinkTimeout) as exc:
                if self.resumes >= self.opt.max_resumes:
                    raise type(exc)(f"{exc}; gave up after {self.resumes} resumes (flash "
                                    "again to resume)", step="transfer", chunk=exc.chunk,
                                    register=exc.register) from None
                self.resumes += 1
                log.warning("link lost during the transfer (%s); resume %d", exc, self.resumes)
                self.client.link.close()
                time.sleep(self.opt.resume_pause_s)
                offset = None

    def readback(self) -> None:
        """Compare the controller's CRC-32 of every stored chunk with ours."""
        plan = self.plan
        theirs = self.client.digests(0, plan.n_chunks)
        for index, crc in enumerate(theirs):
            if crc != plan.chunk(index)[2]:
                raise VerificationFailed(f"verification failed at chunk {index}: the "
                                         "controller's stored copy differs from the package",
                                         step="read-back", chunk=index)

    def step(self, cmd: Command, fraction: float, **kw: int) -> Status:
        if self.cancel.cancelled:
            raise Cancelled("cancelled by the user")
        self.progress(fraction, cmd.name.lower().replace("_", "-"))
        try:
            return self.client.run(cmd, self.opt.step_timeout_s, cancel=self.cancel, **kw)
        except FlashFailed as exc:
            st = exc.status
            if st is not None and st.last_error is ErrorCode.VERIFY_HASH:
                raise VerificationFailed(st.reason, step=cmd.name, chunk=st.error_chunk,
                                         status=st) from None
            raise

    def stage(self) -> Status:
        """Transfer, read back, VERIFY and SELF_TEST: the package waits, staged and
        self-tested, in the inactive slot (the running model is untouched)."""
        t0 = time.monotonic()
        self.transfer()
        self.transfer_s = time.monotonic() - t0
        self.progress(0.86, "read-back")
        self.readback()
        self.step(Command.VERIFY, 0.88)
        return self.step(Command.SELF_TEST, 0.92)

    def run(self) -> Status:
        self.stage()
        deadline = self.opt.commit_deadline_s or 0
        st = self.step(Command.ACTIVATE, 0.95, arg0=deadline)
        if st.state is not State.ACTIVE_UNCONFIRMED or st.active is None or \
                st.active.sha256 != self.plan.sha256:
            raise FlashFailed(f"after ACTIVATE the controller reports {st.summary()}",
                              step="ACTIVATE", status=st)
        self.step(Command.COMMIT, 0.98)
        self.client.session = 0  # committed: the transfer session is over
        return self.client.status()


def _abort_quietly(client: ControllerClient) -> Status | None:
    with contextlib.suppress(DeviceError):
        # Only while our session is still live: a failed step may already have ended it.
        if client.session and client.security().session_state is not SessionState.NONE:
            client.send(Command.ABORT)
    client.session = 0
    with contextlib.suppress(DeviceError):
        return client.status()
    return None


def flash_package(endpoint: Endpoint, package_path: Path, *, signer: CommandSigner | None,
                  policy: RetryPolicy | None = None, options: FlashOptions | None = None,
                  progress: ProgressFn = no_progress,
                  cancel: CancelToken = NEVER_CANCELLED) -> FlashOutcome:
    """Flash the package at ``package_path`` (the caller has verified it and checked who may
    deploy it) into the controller at ``endpoint``; the controller verifies it again.
    ``signer`` signs every command (protocol 2): a key the controller's trust file holds
    with the operator role.

    Returns the outcome read back from the controller. Raises DoesNotFit before sending
    anything, VerificationFailed / FlashFailed when the controller keeps its old model,
    LinkLost / LinkTimeout when it cannot be reached (flash again to resume), and
    FlashCancelled; each error carries the status read back after it, when readable.
    """
    if signer is None:
        raise SignerMissing("flashing needs the workstation's command signer (protocol 2)",
                            step="flash")
    opt, t0 = options or FlashOptions(), time.monotonic()
    facts = PackageFacts.read(package_path)
    data = Path(package_path).read_bytes()
    client = ControllerClient(ModbusLink(endpoint, policy), signer)
    try:
        progress(0.0, f"connecting to {endpoint}")
        identity = client.identity()
        plan = plan_transfer(data, identity, endpoint, compress=opt.compress,
                             chunk_size=opt.chunk_size)
        check_fit(plan, identity, facts)
        log.info("flashing %s (%d bytes, %d on the wire) to %s", facts, len(data),
                 len(plan.wire), endpoint)
        flasher = Flasher(client, plan, opt, progress, cancel)
        try:
            status = flasher.run()
        except Cancelled:
            st = _abort_quietly(client)
            raise FlashCancelled("flash cancelled; the controller dropped the transfer",
                                 step="cancel", status=st) from None
        except DeviceError as exc:
            unconfirmed = exc.status is not None and \
                exc.status.state is State.ACTIVE_UNCONFIRMED
            if not isinstance(exc, LinkLost | LinkTimeout) and not unconfirmed:
                # Never leave a half-done transfer or staged package behind a failure.
                exc.status = _abort_quietly(client) or exc.status
            raise
        progress(1.0, "committed")
        return FlashOutcome(
            endpoint=str(endpoint), package=str(facts), package_sha256=plan.sha256,
            status=status, package_bytes=len(data), wire_bytes=len(plan.wire),
            compressed=plan.compressed, chunk_size=plan.chunk_size, chunks=plan.n_chunks,
            chunks_sent=flasher.chunks_sent, resumes=flasher.resumes,
            estimated_s=plan.estimated_s, transfer_s=flasher.transfer_s,
            duration_s=time.monotonic() - t0, link=client.link.stats)
    finally:
        client.close()
