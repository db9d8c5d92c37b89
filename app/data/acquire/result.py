"""What an acquisition produced: recordings for the snapshot writer, counters, how it ended."""

from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.data.recording import Recording

#: Why a recording ended.
DURATION, STOPPED, LINK_LOST, DEVICE_ERROR, CRASHED = (
    "duration", "stopped", "link_lost", "device_error", "crashed")


@dataclass
class AcquisitionStats:
    """Counters of one acquisition, kept in the provenance of each recording."""

    requests: int = 0
    polls: int = 0
    failed_polls: int = 0
    late_polls: int = 0
    timeouts: int = 0
    exceptions: Counter = field(default_factory=Counter)
    link_losses: int = 0
    reconnects: int = 0
    blocks: dict[str, int] = field(default_factory=dict)
    missed_buffers: dict[str, int] = field(default_factory=dict)
    torn_buffers: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain form (exception codes as strings) for JSON."""
        out = asdict(self)
        out["exceptions"] = {f"{k:02X}": v for k, v in self.exceptions.items()}
        return out


@dataclass
class AcquisitionResult:
    """Recordings (process tags first, then one per waveform) and how the run went.

    ``interrupted`` is True when the link was lost (for good, or for a while: see ``gaps``,
    pairs of wall times (lost, restored or None)), a device error ended it, or it was
    recovered after a crash; samples taken before are kept. Call :meth:`discard` once the
    snapshots are written.
    """

    recordings: list[Recording]
    end_reason: str
    interrupted: bool
    error: str | None
    stats: AcquisitionStats
    gaps: list[tuple[float, float | None]]
    folder: Path
    started_at: float
    ended_at: float

    def recording(self, name: str) -> Recording:
        """The recording called ``name`` ('tags' or a waveform name)."""
        for rec in self.recordings:
            if rec.name == name:
                return rec
        raise KeyError(name)

    def discard(self) -> None:
        """Delete the acquisition folder and its spools."""
        shutil.rmtree(self.folder, ignore_errors=True)
