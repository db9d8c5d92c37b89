"""Who may command the controller (protocol 2, issue 15.4): the signed proof every command
carries, checked against the device's challenge and its trust file; the one transfer session
and its owner; the durable record of refusals the workstation audits."""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature

from app.core.clock import Clock
from app.core.errors import PlantMLError
from app.devices.controller.flashstate import DEVICE_FAILURE, ILLEGAL_VALUE, Reject, short
from app.devices.protocol.codes import ErrorCode, SessionState
from app.devices.protocol.proof import NONCE_BYTES, CommandBlock
from app.packages.trust import COMMAND_ROLE, TrustStore
from app.store.durable import durable_write

log = logging.getLogger(__name__)

REFUSALS_FILE = "refusals.json"
#: Nonces of accepted proofs remembered, so that a replay is named as one (an older nonce
#: is refused as stale either way).
USED_KEPT = 32


class Refused(Reject):
    """A command or chunk refused for its proof or its session: counted in the security
    block, never written to ``last_error``."""


@dataclass
class Session:
    """The live transfer session: its id (from the BEGIN proof), its owner's key, when the
    owner was last heard (monotonic seconds)."""

    id: int
    key_id: str
    last_seen: float


@dataclass
class Refusal:
    """The latest refusal, as the security block shows it."""

    code: int
    command: int
    function: int
    key_id: str
    text: str
    at: float | None  # monotonic time; None once rebooted (its age is then unknown)


class CommandGuard:
    """Checks proofs and sessions; thread-safety is the flash machine's lock."""

    def __init__(self, state_dir: Path, hardware_id: str, trust_path: Path, clock: Clock,
                 takeover_s: int) -> None:
        self.state_dir, self.hardware_id, self.trust_path = state_dir, hardware_id, trust_path
        self.clock, self.takeover_s = clock, takeover_s
        self.nonce = os.urandom(NONCE_BYTES).hex()
        self._used: deque[str] = deque(maxlen=USED_KEPT)
        self.session: Session | None = None
        self.refused_count = 0
        self.last: Refusal | None = None
        self._load()

    # -- proofs -------------------------------------------------------------------------
    def check_proof(self, block: CommandBlock) -> None:
        """Accept ``block``'s proof (and consume the challenge) or raise Refused."""
        if not any(block.signature):
            raise Refused(ILLEGAL_VALUE, ErrorCode.PROOF_MISSING, "command without a signed "
                          "proof: protocol 2 needs the full block")
        if block.hardware_id != self.hardware_id:
            raise Refused(ILLEGAL_VALUE, ErrorCode.PROOF_WRONG_DEVICE, f"proof is for "
                          f"{block.hardware_id!r}, not {self.hardware_id!r}")
        if block.nonce != self.nonce:
            if block.nonce in self._used:
                raise Refused(ILLEGAL_VALUE, ErrorCode.PROOF_REPLAYED, "proof replayed: its "
                              "nonce was used already")
            raise Refused(ILLEGAL_VALUE, ErrorCode.PROOF_STALE, "proof stale: read the "
                          "nonce at IR 6100 again")
        try:
            trust = TrustStore.load(self.trust_path)
        except (PlantMLError, ValueError, TypeError, KeyError) as exc:
            raise Refused(ILLEGAL_VALUE, ErrorCode.PROOF_UNTRUSTED_KEY,
                          f"trust file unreadable: {exc}") from None
        key = trust.key(block.key_id)
        problem = ("is not in the trust file" if key is None else
                   "is revoked" if key.revoked else "is retired" if key.retired else
                   f"of {key.user} may not command" if COMMAND_ROLE not in key.roles else "")
        if key is None or problem:
            raise Refused(ILLEGAL_VALUE, ErrorCode.PROOF_UNTRUSTED_KEY,
                          f"key {block.key_id} {problem}")
        try:
            key.public().verify(block.signature, block.message())
        except InvalidSignature:
            raise Refused(ILLEGAL_VALUE, ErrorCode.PROOF_BAD_SIGNATURE, f"signature of key "
                          f"{block.key_id} does not verify") from None
        # Single use: the next proof must answer a new challenge.
        self._used.append(self.nonce)
        self.nonce = os.urandom(NONCE_BYTES).hex()

    # -- the session --------------------------------------------------------------------
    def abandoned(self, now: float) -> bool:
        """True if the session's owner has been silent longer than the takeover time."""
        return self.session is not None and now - self.session.last_seen > self.takeover_s

    def state(self, now: float) -> SessionState:
        if self.session is None:
            return SessionState.NONE
        return SessionState.ABANDONED if self.abandoned(now) else SessionState.LIVE

    def busy(self, text: str) -> Refused:
        owner = self.session.key_id if self.session else "-"
        return Refused(DEVICE_FAILURE, ErrorCode.SESSION_BUSY, f"{text}: session of key "
                       f"{owner} is live")

    @staticmethod
    def mismatch(text: str) -> Refused:
        return Refused(ILLEGAL_VALUE, ErrorCode.SESSION_MISMATCH, text)

    # -- refusals -----------------------------------------------------------------------
    def record(self, exc: Reject, *, command: int, function: int, key_id: str = "") -> None:
        """Count one refusal and keep it as the latest, durably."""
        self.refused_count += 1
        self.last = Refusal(int(exc.error), command, function,
                            key_id if key_id.strip("0") else "", short(exc.text),
                            self.clock.monotonic())
        log.warning("command %d (function %d) refused: %s", command, function, exc.text)
        doc = {"count": self.refused_count, "last": asdict(self.last) | {"at": None}}
        try:
            durable_write(self.state_dir / REFUSALS_FILE, json.dumps(doc).encode("utf-8"))
        except OSError as exc_io:  # counting goes on in memory; the device keeps serving
            log.error("could not write the refusal record: %s", exc_io)

    def _load(self) -> None:
        path = self.state_dir / REFUSALS_FILE
        try:
            doc = json.loads(path.read_text("utf-8"))
            self.refused_count = int(doc["count"])
            self.last = Refusal(**doc["last"]) if doc.get("last") else None
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.error("the refusal record %s is unreadable (%s); counting starts again",
                      path, exc)

    def values(self, now: float) -> dict[str, object]:
        """The security block's fields."""
        last, s = self.last, self.session
        age = 0xFFFF if last is None or last.at is None else min(0xFFFF, int(now - last.at))
        return {"nonce": self.nonce, "session_state": int(self.state(now)),
                "session_idle_s": min(0xFFFF, int(now - s.last_seen)) if s else 0,
                "session_key": s.key_id if s else "", "refused_count": self.refused_count,
                "last_refusal_code": last.code if last else 0,
                "last_refusal_command": last.command if last else 0,
                "last_refusal_function": last.function if last else 0,
                "last_refusal_age_s": age if last else 0,
                "last_refusal_key": last.key_id if last else "",
                "last_refusal_text": last.text if last else ""}
