"""Fault injection hook: make the n-th file write, fsync, rename or commit fail (tests only).

Production code calls :func:`hit` at each such step; with no plan installed it does nothing.
"""

from __future__ import annotations

import errno
import threading
from dataclasses import dataclass, field

KINDS = ("write", "fsync", "rename", "commit")


class InjectedFault(OSError):
    """An I/O failure raised on purpose by a :class:`FaultPlan`."""


@dataclass
class FaultPlan:
    """Counts I/O steps of the given kinds and fails the ``fail_at``-th one.

    ``persistent`` makes every step from that one on fail too, like a disk that went bad.
    """

    fail_at: int = 0
    persistent: bool = False
    kinds: tuple[str, ...] = KINDS
    errno_code: int = errno.EIO
    count: int = 0
    log: list[str] = field(default_factory=list)

    def step(self, kind: str, detail: str) -> None:
        if kind not in self.kinds:
            return
        self.count += 1
        self.log.append(f"{self.count}:{kind}:{detail}")
        failing = self.count == self.fail_at or (self.persistent and self.count >= self.fail_at > 0)
        if failing:
            raise InjectedFault(self.errno_code, f"injected {kind} failure", detail)


_lock = threading.Lock()
_plan: FaultPlan | None = None


def install(plan: FaultPlan | None) -> None:
    """Install ``plan`` for the whole process (None removes it)."""
    global _plan
    with _lock:
        _plan = plan


def hit(kind: str, detail: str = "") -> None:
    """Record one I/O step; raises :class:`InjectedFault` if the installed plan says so."""
    plan = _plan
    if plan is not None:
        with _lock:
            plan.step(kind, detail)
