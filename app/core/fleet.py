"""Fleet records: a controller of the inventory, a roll-out to a group and its steps."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Roll-out states. ``stopped`` (cancelled) and ``halted`` (a halt rule fired) are resumable;
#: a ``running`` roll-out nobody runs any more was interrupted (the workstation restarted).
RUNNING, HALTED, STOPPED, DONE = "running", "halted", "stopped", "done"
#: Step states. ``flashing`` is written before the flash starts and replaced after it, so a
#: step found ``flashing`` was interrupted mid-flash and is read back from the device.
PENDING, FLASHING, FLASHED, SKIPPED, FAILED = "pending", "flashing", "done", "skipped", "failed"


@dataclass(frozen=True)
class FleetController:
    """One controller of the plant's inventory."""

    name: str
    endpoint: str
    hardware_id: str
    line: str = ""
    location: str = ""
    group: str = ""
    added_at: str = ""
    added_by: str = ""

    @property
    def kind(self) -> str:
        """``tcp`` or ``rtu``."""
        return self.endpoint.partition(":")[0]


@dataclass(frozen=True)
class RolloutStep:
    """One controller of a roll-out: what it ran before and after its flash."""

    position: int
    batch: int  # 0 is the canary
    controller: str
    endpoint: str
    state: str
    before_model: str | None = None
    before_sha256: str | None = None
    after_model: str | None = None
    after_sha256: str | None = None
    error: str = ""
    started_at: str | None = None
    finished_at: str | None = None

    @property
    def changed(self) -> bool:
        """True if the controller's model was changed by this roll-out."""
        return self.after_sha256 is not None and self.after_sha256 != self.before_sha256


@dataclass(frozen=True)
class Rollout:
    """A roll-out of ``ref`` to the controllers of ``group``: canary, then batches."""

    id: int
    ref: str
    group: str
    canary: str
    batch_size: int
    parallel: int
    observe_s: float
    invalid_share: float
    state: str
    observed_batch: int
    reason: str
    workstation: str
    created_at: str
    created_by: str
    updated_at: str
    steps: tuple[RolloutStep, ...] = field(default_factory=tuple)
    #: The workstation whose lease says it runs the roll-out now, and until when (UTC ISO
    #: 8601) unless it renews; None when nobody does.
    owner: str | None = None
    lease_until: str | None = None

    @property
    def changed(self) -> list[str]:
        """The controllers whose model this roll-out changed."""
        return [s.controller for s in self.steps if s.changed]

    @property
    def untouched(self) -> list[str]:
        """The controllers this roll-out has not flashed (still on their old model)."""
        return [s.controller for s in self.steps if s.state == PENDING]

    @property
    def failed(self) -> list[RolloutStep]:
        return [s for s in self.steps if s.state == FAILED]

    @property
    def batches(self) -> int:
        return 1 + max((s.batch for s in self.steps), default=0)

    def summary(self) -> str:
        """One line: state, progress and the reason."""
        done = sum(s.state in (FLASHED, SKIPPED) for s in self.steps)
        text = f"roll-out {self.id} of {self.ref} to group {self.group}: {self.state}, " \
            f"{done} of {len(self.steps)} controllers done"
        return text + (f"; {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class Deployment:
    """One entry of a controller's deployment history (from the audit trail)."""

    seq: int
    time: str
    user: str
    action: str
    result: str
    model: str | None
    sha256: str | None
    reason: str = ""
