"""The device's event log (issue 15.4): every activation, commit, rollback and revert, kept
durably in the state folder (``events.json``, the newest EVENT_DEPTH) and served over Modbus
(input registers 5700-, docs/controller-protocol.md "Device event log")."""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

from app.devices.protocol import words as w
from app.devices.protocol.events import (  # noqa: F401 - the runtime's names
    ACTIVATED,
    BOOT_FALLBACK,
    COMMITTED,
    EVENT_BASE,
    EVENT_DEPTH,
    EVENT_REGION,
    EVENT_REGS,
    REVERTED,
    ROLLED_BACK,
    Event,
    address,
)
from app.store.durable import durable_write

log = logging.getLogger(__name__)

EVENTS_FILE = "events.json"


@dataclass
class EventLog:
    state_dir: Path
    events: list[Event] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, state_dir: Path) -> EventLog:
        path = Path(state_dir) / EVENTS_FILE
        out = cls(Path(state_dir))
        try:
            out.events = [Event(**e) for e in json.loads(path.read_text("utf-8"))]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError) as exc:  # a damaged log never stops the device
            log.error("the event log %s is unreadable (%s); a new one starts", path, exc)
        return out

    @property
    def newest(self) -> int:
        return self.events[-1].seq if self.events else 0

    def record(self, kind: int, boot: int, before: object | None, after: object | None) -> None:
        def mark(info: object | None) -> tuple[int, str]:
            return (int(getattr(info, "model_version", 0)), str(getattr(info, "sha256", "")))
        with self.lock:
            (bv, bs), (av, a_s) = mark(before), mark(after)
            self.events = (self.events + [Event(self.newest + 1, kind, boot, bv, bs, av, a_s)]
                           )[-EVENT_DEPTH:]
            try:
                durable_write(self.state_dir / EVENTS_FILE,
                              json.dumps([vars(e) for e in self.events]).encode())
            except OSError as exc:
                log.error("could not write the event log: %s", exc)

    def region(self) -> list[int]:
        with self.lock:
            regs = [*w.u32_words(self.newest), EVENT_DEPTH, EVENT_REGS] + \
                [0] * (EVENT_DEPTH * EVENT_REGS)
            for ev in self.events:
                at = address(ev.seq) - EVENT_BASE
                regs[at:at + EVENT_REGS] = ev.words()
            return regs
