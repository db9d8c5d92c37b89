"""Captured controller windows become an immutable dataset snapshot: one recording per
contiguous run of window ids, with provenance (controller, endpoint, boot, model, window ids,
time range) and each window's predicted label kept as a *proposed* label, never a training
label (only feedback, app.services.feedback, makes labels of it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from app.core.errors import NotFound, PlantMLError
from app.core.principal import Principal
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.core.records import ChannelInfo, DatasetInfo
from app.core.roles import Action
from app.devices.flash import ControllerClient, Endpoint
from app.devices.flash.capture import CapturedWindow, capture_from
from app.devices.protocol.codes import describe_input
from app.fieldbus import DeviceError
from app.services.base import ServiceContext
from app.services.datasets import DatasetService, RecordingInput
from app.services.registry import RegistryService

#: Windows a drift alarm captures by itself: the reference runtime's whole default ring.
AUTO_WINDOWS = 64
SOURCE = "controller capture"


@dataclass(frozen=True)
class WindowRef:
    """One captured window inside its snapshot: where it lies and what the model proposed."""

    window_id: int
    recording: int
    t_start: float      # seconds from the start of its recording
    t_end: float
    time: str           # UTC time of its last sample (ISO 8601)
    proposed: str       # the class the model predicted, or "invalid input: REASON"
    valid: bool
    model: str

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> WindowRef:
        return cls(window_id=int(d["id"]), recording=int(d["recording"]),
                   t_start=float(d["t_start"]), t_end=float(d["t_end"]), time=str(d["time"]),
                   proposed=str(d["proposed"]), valid=bool(d["valid"]), model=str(d["model"]))


def runs(windows: tuple[CapturedWindow, ...] | list[CapturedWindow]
         ) -> list[list[CapturedWindow]]:
    """Windows grouped into runs of contiguous ids (of one shape), oldest first."""
    out: list[list[CapturedWindow]] = []
    for w in sorted(windows, key=lambda w: w.window_id):
        last = out[-1][-1] if out else None
        if last is not None and w.window_id == last.window_id + 1 and \
                w.samples.shape == last.samples.shape and w.rate == last.rate:
            out[-1].append(w)
        else:
            out.append([w])
    return out


def windows_of(info: DatasetInfo) -> list[WindowRef]:
    """The captured windows of a snapshot made by a capture ([] for any other snapshot)."""
    prov = info.provenance or {}
    if prov.get("source") != SOURCE:
        return []
    return [WindowRef.from_dict(d) for d in prov.get("windows", [])]


def _proposed(w: CapturedWindow, classes: list[str]) -> str:
    if not w.valid:
        return f"invalid input: {describe_input(w.input_reason) or 'unknown reason'}"
    index = int(w.label) if np.isfinite(w.label) else -1
    return classes[index] if 0 <= index < len(classes) else str(w.label)


class CaptureService:
    """Reads the newest windows of a controller and registers them as one snapshot."""

    def __init__(self, ctx: ServiceContext, datasets: DatasetService,
                 registry: RegistryService) -> None:
        self.ctx, self.datasets, self.registry = ctx, datasets, registry

    def _model(self, principal: Principal, ref: str, channels: int
               ) -> tuple[list[str], list[ChannelInfo]]:
        """The model's class names and its channels (names and units of the data it was
        trained on), so a challenger can join the capture to the champion's snapshot."""
        try:
            version = self.registry.show(principal, ref=ref)
            schema = json.loads(self.registry.artifact(principal, ref=ref, name="schema.json"))
            names = list(dict(version.feature_spec).get("channels") or [])
            trained = self.datasets.show(principal, dataset=version.dataset_id)
            by_name = {c.name: c for c in trained.channels}
            infos = [by_name.get(n, ChannelInfo(n)) for n in names]
        except (PlantMLError, ValueError, KeyError):
            schema, infos = {}, []
        if len(infos) != channels:
            infos = [ChannelInfo(f"ch{i}") for i in range(channels)]
        return [str(c) for c in schema.get("classes") or []], infos

    def capture(self, principal: Principal, *, target: str, endpoint: Endpoint, windows: int,
                trigger: dict[str, Any] | None = None, progress: ProgressFn = no_progress,
                cancel: CancelToken = NEVER_CANCELLED) -> DatasetInfo:
        """The newest ``windows`` windows of the controller at ``target`` as a new snapshot;
        a failure registers nothing and is audited."""
        role = self.ctx.authorize(principal, Action.CONTROLLER_CAPTURE, target)
        trigger = trigger or {"kind": "manual"}
        try:
            with ControllerClient.open(endpoint) as client:
                identity = client.identity()  # refuses protocol 1 and 2 in one sentence
                status = client.status()
                got = capture_from(client, windows, progress=progress, cancel=cancel)
            if not got.windows:
                raise NotFound(f"the controller at {target} holds no windows yet (it runs no "
                               "model, or no window has been classified since it booted)")
            ref = f"{status.active.name}:v{status.active.version}" if status.active else ""
            classes, channels = self._model(principal, ref, got.windows[0].samples.shape[0])
            info = self._register(principal, target, identity.hardware_id, status.boot_count,
                                  ref, classes, channels, got.windows, got.missed, trigger)
        except (PlantMLError, DeviceError) as exc:
            self.ctx.audit_outcome(principal, role.value, "controller.capture", target,
                                   result="failed", reason=str(exc),
                                   new={"windows": windows, "trigger": trigger})
            raise
        return info

    def _register(self, principal: Principal, target: str, hardware_id: str, boot: int,
                  ref: str, classes: list[str], channels: list[ChannelInfo],
                  windows: tuple[CapturedWindow, ...], missed: tuple[int, ...],
                  trigger: dict[str, Any]) -> DatasetInfo:
        recordings: list[RecordingInput] = []
        entries: list[dict[str, Any]] = []
        groups = runs(windows)
        for index, group in enumerate(groups):
            length = group[0].samples.shape[1]
            rate = group[0].rate
            duration = length / rate
            start = group[0].time - timedelta(seconds=duration)
            for k, w in enumerate(group):
                entries.append({
                    "id": w.window_id, "recording": index, "t_start": k * duration,
                    "t_end": (k + 1) * duration, "time": w.time.isoformat(),
                    "proposed": _proposed(w, classes), "proposed_index": w.label,
                    "valid": w.valid, "input_reason": w.input_reason,
                    "scores": [round(float(s), 6) for s in w.scores],
                    "model": f"v{w.model_version} {(w.model_sha256 or '')[:16]}"})
            recordings.append(RecordingInput(
                name=f"windows {group[0].window_id}-{group[-1].window_id}",
                data=np.concatenate([w.samples for w in group], axis=1),
                start_time=start.isoformat()))
        first = windows[0].time - timedelta(seconds=windows[0].samples.shape[1] / windows[0].rate)
        provenance = {
            "source": SOURCE, "trigger": trigger,
            "controller": {"hardware_id": hardware_id, "endpoint": target, "boot_count": boot},
            "model": ref, "classes": classes,
            "window_ids": [w.window_id for w in windows], "missed": list(missed),
            "time_range": [first.isoformat(), windows[-1].time.isoformat()],
            "windows": entries,
            "labels": "none: each window's prediction is a proposed label; feedback labels it"}
        return self.datasets.create_from_arrays(
            principal, action=Action.CONTROLLER_CAPTURE,
            name=f"capture {hardware_id} {windows[-1].time:%Y-%m-%d %H:%M:%S}",
            channels=channels, sample_rate=windows[0].rate, provenance=provenance,
            recordings=recordings)
