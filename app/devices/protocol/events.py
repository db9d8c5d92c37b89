"""Device events on the wire (docs/controller-protocol.md "Device event log"): shared by the
runtime (app.devices.controller.events) and the workstation client."""

from __future__ import annotations

from dataclasses import dataclass

from app.devices.protocol import words as w

EVENT_BASE, EVENT_HEAD, EVENT_DEPTH, EVENT_REGS = 5700, 4, 16, 24
EVENT_REGION = EVENT_HEAD + EVENT_DEPTH * EVENT_REGS
KINDS = {1: "activated", 2: "committed", 3: "rolled_back", 4: "reverted", 5: "boot_fallback"}
ACTIVATED, COMMITTED, ROLLED_BACK, REVERTED, BOOT_FALLBACK = 1, 2, 3, 4, 5


@dataclass(frozen=True)
class Event:
    """seq (1, 2, ... for the device's life), kind, the boot it happened in, and the package
    SHA-256 (first 8 bytes) and versions before and after."""

    seq: int
    kind: int
    boot: int
    before_version: int = 0
    before_sha: str = ""
    after_version: int = 0
    after_sha: str = ""

    def words(self) -> list[int]:
        out = [*w.u32_words(self.seq), self.kind, self.boot & 0xFFFF]
        for version, sha in ((self.before_version, self.before_sha),
                             (self.after_version, self.after_sha)):
            raw = bytes.fromhex(sha[:32]) if sha else bytes(16)
            out += [*w.u32_words(version), *w.bytes_words(raw.ljust(16, b"\0"))]
        return out + [0] * (EVENT_REGS - len(out))

    @classmethod
    def decode(cls, regs: list[int]) -> Event:
        def sha(part: list[int]) -> str:
            raw = w.words_bytes(part)
            return raw.hex() if any(raw) else ""
        return cls(seq=w.words_u32(regs[0:2]), kind=int(regs[2]), boot=int(regs[3]),
                   before_version=w.words_u32(regs[4:6]), before_sha=sha(regs[6:14]),
                   after_version=w.words_u32(regs[14:16]), after_sha=sha(regs[16:24]))

    @property
    def kind_name(self) -> str:
        return KINDS.get(self.kind, f"kind {self.kind}")


def address(seq: int) -> int:
    """First register of event ``seq``."""
    return EVENT_BASE + EVENT_HEAD + EVENT_REGS * (seq % EVENT_DEPTH)
