"""What a controller reports, decoded: identity, status, live results, waveform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from app.devices.flash.sentences import error_sentence
from app.devices.protocol import registers as r
from app.devices.protocol.codes import (
    RESULT_RUNNING,
    SLOT_NAMES,
    Capability,
    ErrorCode,
    SessionState,
    ShadowState,
    StagedFlag,
    State,
    describe_input,
)


@dataclass(frozen=True)
class Identity:
    """The identity block."""

    protocol_version: int
    capabilities: Capability
    max_chunk: int
    max_package: int
    link_baud: int
    max_transfer_s: int
    idle_timeout_s: int
    commit_deadline_s: int
    max_features: int
    max_scores: int
    wave_capacity: int
    hardware_id: str
    session_takeover_s: int = 0

    @classmethod
    def decode(cls, regs: list[int]) -> Identity:
        v = {f.name: r.decode(f, regs, r.IDENTITY_BASE) for f in r.IDENTITY}
        return cls(protocol_version=v["protocol_version"],
                   capabilities=Capability(v["capabilities"] & 0xFF),
                   **{k: v[k] for k in ("max_chunk", "max_package", "link_baud",
                                        "max_transfer_s", "idle_timeout_s", "commit_deadline_s",
                                        "max_features", "max_scores", "wave_capacity",
                                        "hardware_id", "session_takeover_s")})


@dataclass(frozen=True)
class ModelRef:
    """A model as the status block names it."""

    name: str
    version: int
    counter: int
    sha256: str | None

    def __str__(self) -> str:
        return f"{self.name} v{self.version} r{self.counter} ({(self.sha256 or '')[:12]})"


@dataclass(frozen=True)
class Status:
    """The status block, decoded."""

    state: State
    active_slot: str
    staged_slot: str
    staged_flags: StagedFlag
    last_error: ErrorCode
    error_chunk: int | None
    error_text: str
    last_cmd_seq: int
    last_cmd_code: int
    last_cmd_result: int
    commit_remaining_s: int
    boot_count: int
    acked_offset: int
    transfer_total: int
    chunk_size: int
    active: ModelRef | None
    staged: ModelRef | None
    #: Input reason bits of the latest window (a sensor fault); 0 valid.
    sensor_fault: int = 0
    #: The slot ROLLBACK returns to ("A", "B"), "-" when no valid previous model is held.
    previous_slot: str = "-"

    @classmethod
    def decode(cls, regs: list[int]) -> Status:
        v: dict[str, Any] = {f.name: r.decode(f, regs, r.STATUS_BASE) for f in r.STATUS}

        def ref(prefix: str) -> ModelRef | None:
            if not v[f"{prefix}_name"] and v[f"{prefix}_sha256"] is None:
                return None
            return ModelRef(v[f"{prefix}_name"], v[f"{prefix}_version"],
                            v[f"{prefix}_counter"], v[f"{prefix}_sha256"])
        try:
            error = ErrorCode(v["last_error"])
        except ValueError:
            error = ErrorCode.BAD_COMMAND
        return cls(state=State(v["state"]), active_slot=SLOT_NAMES.get(v["active_slot"], "?"),
                   staged_slot=SLOT_NAMES.get(v["staged_slot"], "?"),
                   staged_flags=StagedFlag(v["staged_flags"] & 7), last_error=error,
                   error_chunk=None if v["error_chunk"] == 0xFFFFFFFF else v["error_chunk"],
                   error_text=v["error_text"], last_cmd_seq=v["last_cmd_seq"],
                   last_cmd_code=v["last_cmd_code"], last_cmd_result=v["last_cmd_result"],
                   commit_remaining_s=v["commit_remaining_s"], boot_count=v["boot_count"],
                   acked_offset=v["acked_offset"], transfer_total=v["transfer_total"],
                   chunk_size=v["chunk_size"], active=ref("active"), staged=ref("staged"),
                   sensor_fault=v["sensor_fault"],
                   previous_slot=SLOT_NAMES.get(v["previous_slot"], "?"))

    @property
    def running(self) -> bool:
        """True while the last command still runs on the controller."""
        return self.last_cmd_result == RESULT_RUNNING

    @property
    def reason(self) -> str:
        """The last error in words ('' when there is none)."""
        if self.last_error is ErrorCode.NONE:
            return ""
        where = f" (chunk {self.error_chunk})" if self.error_chunk is not None else ""
        return f"{self.last_error.name.lower()}{where}: {self.error_text}"

    @property
    def sentence(self) -> str:
        """The last error as a sentence, without codes or register numbers ('' for none)."""
        return error_sentence(self.last_error, self.error_text)

    @property
    def can_roll_back(self) -> bool:
        """True if ROLLBACK has somewhere to go: an unconfirmed activation to revert, or a
        valid previous model in the other slot."""
        return self.state is State.ACTIVE_UNCONFIRMED or self.previous_slot != "-"

    def summary(self) -> str:
        model = str(self.active) if self.active else "no model"
        return f"{self.state.name.lower()}, slot {self.active_slot}: {model}" + \
            (f"; last error {self.reason}" if self.reason else "")


@dataclass(frozen=True)
class FeatureStats:
    """Running statistics since the model started: count, mean and variance per feature."""

    count: int
    mean: np.ndarray
    m2: np.ndarray

    @property
    def variance(self) -> np.ndarray:
        return self.m2 / (self.count - 1) if self.count > 1 else np.full_like(self.mean, np.nan)

    @property
    def std(self) -> np.ndarray:
        return np.sqrt(np.maximum(self.variance, 0.0))


@dataclass(frozen=True)
class Live:
    """Latest prediction, scores and features, with the running statistics."""

    inference_count: int
    prediction: float
    scores: np.ndarray
    features: np.ndarray
    stats: FeatureStats
    latency_us: int
    #: Input reason bits of the latest window (0 valid) and the windows flagged invalid
    #: since boot; an invalid window's prediction is -1 and its scores 0.
    input_reason: int = 0
    invalid_count: int = 0

    @property
    def invalid_reason(self) -> str:
        """Why the latest window is invalid input, in words; '' when it is valid."""
        return describe_input(self.input_reason)


@dataclass(frozen=True)
class Security:
    """The security block: the challenge, the session, the refusal record."""

    nonce: str
    session_state: SessionState
    session_idle_s: int
    session_key: str
    refused_count: int
    last_refusal_code: int
    last_refusal_command: int
    last_refusal_function: int
    last_refusal_age_s: int
    last_refusal_key: str
    last_refusal_text: str

    @classmethod
    def decode(cls, regs: list[int]) -> Security:
        v = {f.name: r.decode(f, regs, r.SECURITY_BASE) for f in r.SECURITY
             if f.name != "security_crc"}
        try:
            state = SessionState(v["session_state"])
        except ValueError:
            state = SessionState.LIVE
        blank = "0" * 16
        return cls(nonce=v["nonce"], session_state=state,
                   session_idle_s=v["session_idle_s"],
                   session_key="" if v["session_key"] == blank else v["session_key"],
                   refused_count=v["refused_count"], last_refusal_code=v["last_refusal_code"],
                   last_refusal_command=v["last_refusal_command"],
                   last_refusal_function=v["last_refusal_function"],
                   last_refusal_age_s=v["last_refusal_age_s"],
                   last_refusal_key="" if v["last_refusal_key"] == blank
                   else v["last_refusal_key"], last_refusal_text=v["last_refusal_text"])

    @property
    def last_refusal(self) -> str:
        """The latest refusal in words ('' when there was none)."""
        if not self.refused_count:
            return ""
        try:
            name = ErrorCode(self.last_refusal_code).name.lower()
        except ValueError:
            name = f"code {self.last_refusal_code}"
        return f"{name}: {self.last_refusal_text}"


@dataclass(frozen=True)
class ShadowStatus:
    """The shadow block: the staged model running beside the active one, how often the two
    agreed and how long the staged one takes (docs/controller-protocol.md section 6d)."""

    state: ShadowState
    slot: str
    version: int
    counter: int
    sha256: str | None
    compared: int
    agreed: int
    failures: int
    latency_us: int
    latency_mean_us: int
    latency_max_us: int
    running_s: int

    @classmethod
    def decode(cls, regs: list[int]) -> ShadowStatus:
        v = {f.name: r.decode(f, regs, r.SHADOW_BASE) for f in r.SHADOW
             if f.name != "shadow_crc"}
        try:
            state = ShadowState(v["shadow_state"])
        except ValueError:
            state = ShadowState.RUNNING
        return cls(state=state, slot=SLOT_NAMES.get(v["shadow_slot"], "?"),
                   version=v["shadow_version"], counter=v["shadow_counter"],
                   sha256=v["shadow_sha256"], compared=v["shadow_compared"],
                   agreed=v["shadow_agreed"], failures=v["shadow_failures"],
                   latency_us=v["shadow_latency_us"],
                   latency_mean_us=v["shadow_latency_mean_us"],
                   latency_max_us=v["shadow_latency_max_us"], running_s=v["shadow_running_s"])

    @property
    def running(self) -> bool:
        return self.state is ShadowState.RUNNING

    @property
    def agreement(self) -> float | None:
        """Share of compared windows on which both models agreed; None before the first."""
        return self.agreed / self.compared if self.compared else None

    def meets(self, *, min_agreement: float, min_windows: int = 1,
              min_seconds: int = 0) -> str:
        """'' if this shadow period allows a commit, else why not, in one sentence."""
        if not self.running:
            return "no shadow comparison is running"
        if self.running_s < min_seconds:
            return f"the shadow ran {self.running_s} s of the {min_seconds} s required"
        if self.compared < max(1, min_windows):
            return f"the shadow compared {self.compared} windows of the {max(1, min_windows)} " \
                   "required"
        agreement = self.agreement or 0.0
        if agreement < min_agreement:
            return f"the shadow agreed on {agreement:.2%} of {self.compared} windows, below " \
                   f"the {min_agreement:.2%} required"
        return ""

    def summary(self) -> str:
        if not self.running:
            return "shadow off"
        share = "-" if self.agreement is None else f"{self.agreement:.1%}"
        return (f"shadow v{self.version} (slot {self.slot}): agreement {share} of "
                f"{self.compared} windows, latency {self.latency_us} us (mean "
                f"{self.latency_mean_us}, max {self.latency_max_us}), {self.running_s} s")


@dataclass(frozen=True)
class Waveform:
    """One waveform buffer: ``samples`` (channels, length) float32 and its sequence number."""

    seq: int
    samples: np.ndarray
    sample_rate: float
