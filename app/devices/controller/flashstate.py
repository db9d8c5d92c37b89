"""The flash state machine's state and primitives: what every step reads and changes.

The steps themselves live by responsibility: :mod:`.staging` (transfer, verify, self-test),
:mod:`.activation` (activate, commit, roll back, revert, boot); :mod:`.machine` answers the
requests and dispatches to them. All of them share this one state under its lock.
"""

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
from app.devices.controller.events import EventLog
from app.devices.controller.slots import DiskState, SlotInfo, SlotStore
from app.devices.controller.transfer import Transfer
from app.devices.protocol.codes import RESULT_RUNNING, ErrorCode, StagedFlag, State
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


def need(ok: bool, text: str) -> None:
    """Refuse a command that does not fit the state (exception 04, BAD_STATE)."""
    if not ok:
        raise Reject(DEVICE_FAILURE, ErrorCode.BAD_STATE, text)


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
    #: A transfer session whose owner was silent this long may be taken over (protocol 2).
    session_takeover_s: int = 120
    link_baud: int = 0
    clock: Clock = field(default_factory=Clock)
    crash_at: str | None = None  # tests: SIGKILL the process at this named point


class FlashState:
    """The controller's flash state (DESIGN.md section 4 "Controller protocol"), thread-safe
    under :attr:`lock`: the slots on disk, the running and staged models, the transfer, the
    last error and command, and the one background job a long step runs as."""

    def __init__(self, config: ControllerConfig, on_engine: Callable[[], None]) -> None:
        self.cfg = config
        self.store = SlotStore(config.state_dir)
        self.events = EventLog.load(config.state_dir)
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
        self.error, self.error_text = ErrorCode.NONE, ""
        self.error_chunk: int | None = None
        self.cmd_seq = self.cmd_code = 0
        self.cmd_result = 0
        self._job: threading.Thread | None = None

    def crash_point(self, name: str) -> None:
        """Tests name a point to die at, like a power cut there (SIGKILL: no clean-up)."""
        if self.cfg.crash_at == name:
            log.warning("crash point %s reached: killing the process", name)
            os.kill(os.getpid(), signal.SIGKILL)

    def fail(self, error: ErrorCode, text: str, chunk: int | None = None,
             state: State | None = None) -> None:
        """Record the last error (and optionally the state it leaves the machine in)."""
        with self.lock:
            self.error, self.error_text, self.error_chunk = error, short(text), chunk
            if state is not None:
                self.state = state
        log.warning("controller error %s: %s", error.name, text)

    def rest_state(self) -> State:
        """ACTIVE when a model runs, else IDLE."""
        return State.ACTIVE if self.engine is not None else State.IDLE

    def clear_staging(self) -> None:
        """Forget the transfer and whatever was staged from it."""
        self.transfer, self.staged_info, self.staged_files = None, None, {}
        self.staged_engine, self.staged_slot, self.flags = None, None, StagedFlag(0)

    @property
    def in_flash(self) -> bool:
        """True from BEGIN until the transfer's outcome: committed, reverted, aborted,
        refused or dropped (the span of a transfer session)."""
        return self.transfer is not None or self.staged_slot is not None or self.state in (
            State.VERIFYING, State.SELF_TEST, State.ACTIVE_UNCONFIRMED)

    @property
    def busy(self) -> bool:
        """True while a background job runs."""
        return self._job is not None and self._job.is_alive()

    def start_job(self, name: str, fn: Callable[[], None]) -> None:
        """Run ``fn`` in the background; ``last_cmd_result`` shows running, then its end."""
        def run() -> None:
            try:
                fn()
                result = 0
            except Reject as exc:
                self.fail(exc.error, exc.text, exc.chunk)
                result = int(exc.error)
            except Exception as exc:  # a job must always report its end
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
