"""Controller use cases: scan, status, flash (operators, approved packages only), rollback,
and watching live predictions for drift. Every attempt is audited with what the device says."""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from app.core.errors import NotFound, PlantMLError, UsageError
from app.core.lifecycle import State
from app.core.principal import Principal
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.core.records import DatasetInfo
from app.core.roles import Action
from app.devices.flash import (
    ControllerClient,
    FlashOutcome,
    Identity,
    Live,
    ScanResult,
    ShadowStatus,
    Status,
    flash_package,
    read_live,
    rollback,
    scan,
)
from app.devices.flash.class_stats import read_class_stats
from app.devices.flash.sentences import failure_sentence
from app.fieldbus import DeviceError, Endpoint
from app.services.base import ServiceContext
from app.services.capture import AUTO_WINDOWS, CaptureService
from app.services.command_key import signer
from app.services.controller_drift import Drift, DriftWatch
from app.services.controller_reconcile import (
    Belief,
    audit_device_events,
    audit_refusals,
    believed,
    reconcile,
)
from app.services.controller_shadow import ShadowDesk, ShadowRequirement
from app.services.datasets import DatasetService
from app.services.packages import PackageService
from app.services.registry import RegistryService

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WatchResult:
    """One look at a running controller: its model, latest prediction and drift."""

    status: Status
    live: Live
    model: str
    label: str
    drift: Drift | None  # per predicted class (ClassSummaryDrift) or pooled (DriftReport)
    #: Why the latest window is invalid input ("flat line (dead or disconnected sensor)"),
    #: '' when it is valid: then ``label`` is "invalid input: REASON", never a class.
    invalid_reason: str = ""
    #: The snapshot a drift alarm that began at this look captured by itself (issue 12.1).
    captured: DatasetInfo | None = None


def endpoint(text: str) -> Endpoint:
    """``tcp:HOST:PORT`` or ``rtu:PORT:BAUD``, ``#unit=N`` after either for a unit id other
    than 1; raises UsageError. Every request to the controller (status, flash, rollback,
    watch, capture, shadow) goes to that unit."""
    return Endpoint.parse(text)


class ControllerService:
    """The workstation side of deployment and monitoring."""

    def __init__(self, ctx: ServiceContext, registry: RegistryService,
                 packages: PackageService, datasets: DatasetService | None = None) -> None:
        self.ctx = ctx
        self.registry = registry
        self.packages = packages
        self._capture = CaptureService(ctx, datasets or DatasetService(ctx), registry)
        # The drift alarm of each controller, so an alarm is audited once when it begins
        # and once when it clears, not at every poll.
        self._drift = DriftWatch(ctx)
        self._shadow = ShadowDesk(ctx, registry, packages)  # what this workstation shadows

    def scan(self, principal: Principal, *, endpoints: list[str]) -> list[ScanResult]:
        """Identity and status of each endpoint (failures reported per endpoint)."""
        role = self.ctx.authorize(principal, Action.CONTROLLER_WATCH)
        results = scan([endpoint(e) for e in endpoints])
        for text, res in zip(endpoints, results, strict=True):
            if res.status is not None:
                reconcile(self.ctx, principal, role.value, text, res.status)
                try:
                    with ControllerClient.open(res.endpoint) as client:
                        audit_device_events(self.ctx, principal, role.value, text, client)
                        audit_refusals(self.ctx, principal, role.value, text, client,
                                       res.status.boot_count)
                except DeviceError as exc:  # the scan itself succeeded; say so in the log
                    log.warning("device events of %s not read: %s", text, exc)
        return results

    def status(self, principal: Principal, *, target: str) -> tuple[Identity, Status]:
        """Identity and status of one controller."""
        role = self.ctx.authorize(principal, Action.CONTROLLER_WATCH, target)
        with ControllerClient.open(endpoint(target)) as client:
            identity, status = client.identity(), client.status()
            audit_device_events(self.ctx, principal, role.value, target, client)
            audit_refusals(self.ctx, principal, role.value, target, client, status.boot_count)
        reconcile(self.ctx, principal, role.value, target, status)
        return identity, status

    def current_model(self, principal: Principal, *, target: str) -> Belief:
        """What the workstation believes runs at ``target``: the newest deploy, rollback or
        reconcile record in the audit trail (it follows the device after each scan, status
        or watch)."""
        self.ctx.authorize(principal, Action.CONTROLLER_WATCH, target)
        return believed(self.ctx, target)

    def flash(self, principal: Principal, *, ref: str, target: str,
              progress: ProgressFn = no_progress,
              cancel: CancelToken = NEVER_CANCELLED) -> FlashOutcome:
        """Deploy an approved version to the controller at ``target``: the package is built,
        verified here for the controller's hardware id, flashed in verified chunks, and
        verified again on the device, which keeps its old model on any failure."""
        role = self.ctx.authorize(principal, Action.CONTROLLER_DEPLOY, f"model:{ref}")
        version = self.registry.show(principal, ref=ref)
        if version.state != State.APPROVED.value:
            msg = f"{ref} is {version.state}: only approved versions are deployed"
            self.ctx.audit_outcome(principal, role.value, "controller.deploy", f"model:{ref}",
                                   result="refused", reason=msg, new={"target": target})
            raise UsageError(msg)
        ep = endpoint(target)
        try:
            with ControllerClient.open(ep) as client:
                identity = client.identity()
            with tempfile.TemporaryDirectory(dir=self.ctx.blobs.root) as tmp:
                path = self.packages.build(principal, ref=ref, out_dir=Path(tmp))
                self.packages.verify(principal, path=path, hardware_id=identity.hardware_id)
                # Signed only now: the operator's role and the package were checked.
                outcome = flash_package(ep, path, signer=signer(self.ctx), progress=progress,
                                        cancel=cancel)
        except PlantMLError as exc:
            status = getattr(exc, "status", None)
            self.ctx.audit_outcome(principal, role.value, "controller.deploy", f"model:{ref}",
                                   result="failed", reason=str(exc),
                                   new={"target": target, "device": _status_dict(status)})
            raise
        self.ctx.audit_outcome(
            principal, role.value, "controller.deploy", f"model:{ref}",
            result="ok" if outcome.ok else "failed",
            new={"target": target, "hardware_id": identity.hardware_id,
                 "package_sha256": outcome.package_sha256, "device": _status_dict(
                     outcome.status), "chunks": outcome.chunks, "resumes": outcome.resumes,
                 "compressed": outcome.compressed, "seconds": round(outcome.duration_s, 2)})
        return outcome

    def rollback(self, principal: Principal, *, target: str, reason: str) -> Status:
        """Make the controller return to its previous model (a new, audited deployment)."""
        if not reason.strip():
            raise UsageError("say why the controller rolls back")
        role = self.ctx.authorize(principal, Action.CONTROLLER_ROLLBACK, target)
        try:
            status = rollback(endpoint(target), signer=signer(self.ctx))
        except DeviceError as exc:
            # The trail keeps the device's exact words; the user gets them as a sentence.
            self.ctx.audit_outcome(principal, role.value, "controller.rollback", target,
                                   result="failed", reason=str(exc),
                                   new={"device": _status_dict(getattr(exc, "status", None))})
            exc.args = (failure_sentence(exc, target),)
            raise
        self.ctx.audit_outcome(principal, role.value, "controller.rollback", target,
                               result="ok", reason=reason, new={"device": _status_dict(status)})
        return status

    # -- shadow mode (docs/controller-protocol.md section 6d; app.services.controller_shadow)
    def start_shadow(self, principal: Principal, *, target: str, ref: str,
                     progress: ProgressFn = no_progress,
                     cancel: CancelToken = NEVER_CANCELLED) -> ShadowStatus:
        """Stage the approved version ``ref`` on ``target`` without activating it and run it
        in shadow beside the running model; audited ``controller.shadow``."""
        return self._shadow.start(principal, target=target, ref=ref, progress=progress,
                                  cancel=cancel)

    def shadow_status(self, principal: Principal, *, target: str) -> ShadowStatus:
        """The shadow block of ``target``: agreement, windows, the staged model's latency."""
        return self._shadow.status(principal, target=target)

    def shadow_ref(self, target: str) -> str | None:
        """The version this workstation runs in shadow on ``target`` (None: none)."""
        return self._shadow.held(target)

    def commit_shadow(self, principal: Principal, *, target: str,
                      requirement: ShadowRequirement) -> Status:
        """Commit the version in shadow on ``target`` if the shadow period met
        ``requirement`` (audited ``controller.deploy``); else UsageError, still in shadow."""
        return self._shadow.commit(principal, target=target, requirement=requirement)

    def stop_shadow(self, principal: Principal, *, target: str, drop: bool = True,
                    reason: str = "") -> Status:
        """End the shadow on ``target``; ``drop`` drops the staged package as well."""
        return self._shadow.stop(principal, target=target, drop=drop, reason=reason)

    def watch(self, principal: Principal, *, target: str) -> WatchResult:
        """Latest prediction and drift of the running model against its training reference;
        an alarm is audited."""
        role = self.ctx.authorize(principal, Action.CONTROLLER_WATCH, target)
        ep = endpoint(target)
        with ControllerClient.open(ep) as client:
            client.identity()  # refuses a protocol-1 controller in one sentence
            status = client.status()
            audit_device_events(self.ctx, principal, role.value, target, client)
            audit_refusals(self.ctx, principal, role.value, target, client, status.boot_count)
        reconcile(self.ctx, principal, role.value, target, status)
        live = read_live(ep)
        if status.active is None:
            raise NotFound(f"the controller at {target} runs no model")
        ref = f"{status.active.name}:v{status.active.version}"
        drift, label = None, str(live.prediction)
        try:
            report = json.loads(self.registry.artifact(principal, ref=ref,
                                                       name="validation_report.json"))
            schema = json.loads(self.registry.artifact(principal, ref=ref, name="schema.json"))
        except (PlantMLError, ValueError):
            report, schema = None, {}
        classes = schema.get("classes") or []
        invalid = live.invalid_reason
        if invalid:
            label = f"invalid input: {invalid}"
        elif classes and np.isfinite(live.prediction) and \
                0 <= int(live.prediction) < len(classes):
            label = classes[int(live.prediction)]
        snap = read_class_stats(ep) if report and report.get("class_reference") else None
        drift = self._drift.look(principal, role.value, target=target, ref=ref, report=report,
                                 schema=schema, live=live, snap=snap)
        captured = self._on_alarm(principal, target, ref) if self._drift.began else None
        return WatchResult(status=status, live=live, model=ref, label=label, drift=drift,
                           invalid_reason=invalid, captured=captured)

    def capture(self, principal: Principal, *, target: str, windows: int,
                progress: ProgressFn = no_progress,
                cancel: CancelToken = NEVER_CANCELLED) -> DatasetInfo:
        """The controller's newest ``windows`` raw windows as an immutable snapshot, with
        provenance (controller, model, window ids, time range) and the predictions kept as
        proposed labels (docs/controller-protocol.md 6e)."""
        if not 1 <= windows <= 4096:
            raise UsageError(f"capture 1 to 4096 windows, not {windows}")
        return self._capture.capture(principal, target=target, endpoint=endpoint(target),
                                     windows=windows, progress=progress, cancel=cancel)

    def _on_alarm(self, principal: Principal, target: str, ref: str) -> DatasetInfo | None:
        """A drift alarm that just began captures the windows behind it (audited with the
        snapshot, or as failed); the watch goes on either way."""
        trigger = {"kind": "drift alarm", "model": ref, "alarm_seq": self._drift.alarm_seq}
        try:
            return self._capture.capture(principal, target=target, endpoint=endpoint(target),
                                         windows=AUTO_WINDOWS, trigger=trigger)
        except PlantMLError as exc:  # audited by the capture (or the role check)
            log.warning("the drift alarm at %s was not captured: %s", target, exc)
            return None


def _status_dict(status: Status | None) -> dict | None:
    if status is None:
        return None
    return {"state": status.state.name.lower(), "active_slot": status.active_slot,
            "active": str(status.active) if status.active else None,
            "active_sha256": status.active.sha256 if status.active else None,
            "error": status.reason}
