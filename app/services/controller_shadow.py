"""Shadow mode through the services: stage an approved version beside the running model,
watch how often the two agree, then commit it only if the shadow period met a requirement
(or stop it and drop the package); every step audited."""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.errors import NotFound, PlantMLError, UsageError
from app.core.lifecycle import State
from app.core.principal import Principal
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.core.roles import Action
from app.devices.flash import (
    ControllerClient,
    ShadowStatus,
    Status,
    promote_shadow,
    read_shadow,
    start_shadow,
    stop_shadow,
)
from app.fieldbus import Endpoint
from app.services.base import ServiceContext
from app.services.command_key import signer
from app.services.packages import PackageService
from app.services.registry import RegistryService


@dataclass(frozen=True)
class ShadowRequirement:
    """What a shadow period must show before its package may be committed: at least
    ``min_seconds`` of comparison on the device's clock, ``min_windows`` windows compared,
    and an agreement of at least ``min_agreement`` (0..1)."""

    min_agreement: float
    min_windows: int = 1
    min_seconds: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_agreement <= 1.0:
            raise UsageError(f"the required shadow agreement is {self.min_agreement}; give a "
                             "share from 0 to 1")
        if self.min_windows < 0 or self.min_seconds < 0:
            raise UsageError("the shadow period's windows and seconds cannot be negative")

    def as_dict(self) -> dict[str, Any]:
        return {"min_agreement": self.min_agreement, "min_windows": self.min_windows,
                "min_seconds": self.min_seconds}


@dataclass(frozen=True)
class _Held:
    """A package this workstation staged in shadow: its transfer session (known only here)."""

    ref: str
    session: int
    package_sha256: str
    hardware_id: str


def shadow_dict(shadow: ShadowStatus | None) -> dict[str, Any] | None:
    """The shadow figures as the audit trail keeps them."""
    if shadow is None:
        return None
    return {"running": shadow.running, "version": shadow.version,
            "sha256": shadow.sha256, "compared": shadow.compared, "agreed": shadow.agreed,
            "agreement": None if shadow.agreement is None else round(shadow.agreement, 4),
            "failures": shadow.failures, "latency_us": shadow.latency_us,
            "latency_mean_us": shadow.latency_mean_us,
            "latency_max_us": shadow.latency_max_us, "running_s": shadow.running_s}


def _device(status: Status | None) -> dict[str, Any] | None:
    """The device's state as a deploy event records it (the keys the belief about what runs
    is read from: app.services.controller_reconcile)."""
    if status is None:
        return None
    return {"state": status.state.name.lower(), "active_slot": status.active_slot,
            "active": str(status.active) if status.active else None,
            "active_sha256": status.active.sha256 if status.active else None,
            "error": status.reason}


class ShadowDesk:
    """The shadow steps of ``ControllerService``; holds the
    sessions of the packages this workstation process staged (they die with the process:
    after a restart the package is staged again)."""

    def __init__(self, ctx: ServiceContext, registry: RegistryService,
                 packages: PackageService) -> None:
        self.ctx, self.registry, self.packages = ctx, registry, packages
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()

    def _endpoint(self, target: str) -> Endpoint:
        return Endpoint.parse(target)

    def start(self, principal: Principal, *, target: str, ref: str,
              progress: ProgressFn = no_progress,
              cancel: CancelToken = NEVER_CANCELLED) -> ShadowStatus:
        """Stage the approved version ``ref`` on ``target`` (transfer, VERIFY, SELF_TEST, no
        ACTIVATE) and run it in shadow beside the running model."""
        role = self.ctx.authorize(principal, Action.CONTROLLER_DEPLOY, f"model:{ref}")
        version = self.registry.show(principal, ref=ref)
        if version.state != State.APPROVED.value:
            msg = f"{ref} is {version.state}: only approved versions run in shadow"
            self.ctx.audit_outcome(principal, role.value, "controller.shadow", f"model:{ref}",
                                   result="refused", reason=msg, new={"target": target})
            raise UsageError(msg)
        ep = self._endpoint(target)
        try:
            with ControllerClient.open(ep) as client:
                identity = client.identity()
            with tempfile.TemporaryDirectory(dir=self.ctx.blobs.root) as tmp:
                path = self.packages.build(principal, ref=ref, out_dir=Path(tmp))
                self.packages.verify(principal, path=path,
                                         hardware_id=identity.hardware_id)
                # Signed only now: the operator's role and the package were checked.
                started = start_shadow(ep, path, signer=signer(self.ctx), progress=progress,
                                       cancel=cancel)
        except PlantMLError as exc:
            self.ctx.audit_outcome(principal, role.value, "controller.shadow", f"model:{ref}",
                                   result="failed", reason=str(exc), new={"target": target})
            raise
        with self._lock:
            self._held[target] = _Held(ref, started.session, started.package_sha256,
                                       identity.hardware_id)
        self.ctx.audit_outcome(principal, role.value, "controller.shadow", f"model:{ref}",
                               result="ok", new={
                                   "target": target, "hardware_id": identity.hardware_id,
                                   "package_sha256": started.package_sha256,
                                   "shadow": shadow_dict(started.shadow)})
        return started.shadow

    def status(self, principal: Principal, *, target: str) -> ShadowStatus:
        """The controller's shadow block as it reads now."""
        self.ctx.authorize(principal, Action.CONTROLLER_WATCH, target)
        shadow = read_shadow(self._endpoint(target))
        if shadow is None:
            raise NotFound(f"the controller at {target} has no shadow mode (no shadow block at "
                           "IR 6400): update its runtime (plantml-edge)")
        return shadow

    def held(self, target: str) -> str | None:
        """The version this workstation staged in shadow on ``target``, if any."""
        with self._lock:
            held = self._held.get(target)
        return held.ref if held else None

    def commit(self, principal: Principal, *, target: str,
               requirement: ShadowRequirement) -> Status:
        """ACTIVATE and COMMIT the package in shadow on ``target`` if the device's shadow
        figures meet ``requirement``; otherwise refuse (audited) and leave it in shadow."""
        with self._lock:
            held = self._held.get(target)
        ref = held.ref if held else "-"
        role = self.ctx.authorize(principal, Action.CONTROLLER_DEPLOY, f"model:{ref}")
        if held is None:
            raise UsageError(f"this workstation staged nothing in shadow on {target} (or it "
                             "restarted since): start the shadow again")
        shadow = self.status(principal, target=target)
        why = shadow.meets(min_agreement=requirement.min_agreement,
                           min_windows=requirement.min_windows,
                           min_seconds=requirement.min_seconds)
        if not why and shadow.sha256 != held.package_sha256:
            why = f"the controller's shadow runs another package ({(shadow.sha256 or '-')[:12]})"
        new: dict[str, Any] = {"target": target, "package_sha256": held.package_sha256,
                               "hardware_id": held.hardware_id, "via": "shadow",
                               "shadow": shadow_dict(shadow),
                               "requirement": requirement.as_dict()}
        if why:
            self.ctx.audit_outcome(principal, role.value, "controller.deploy", f"model:{ref}",
                                   result="refused", reason=why, new=new)
            raise UsageError(f"{ref} stays in shadow on {target}: {why}")
        try:
            status = promote_shadow(self._endpoint(target), signer=signer(self.ctx),
                                    session=held.session,
                                    package_sha256=held.package_sha256)
        except PlantMLError as exc:
            self.ctx.audit_outcome(principal, role.value, "controller.deploy", f"model:{ref}",
                                   result="failed", reason=str(exc), new=new | {
                                       "device": _device(getattr(exc, "status", None))})
            raise
        with self._lock:
            self._held.pop(target, None)
        ok = status.active is not None and status.active.sha256 == held.package_sha256
        self.ctx.audit_outcome(principal, role.value, "controller.deploy", f"model:{ref}",
                               result="ok" if ok else "failed",
                               new=new | {"device": _device(status)})
        return status

    def stop(self, principal: Principal, *, target: str, drop: bool = True,
             reason: str = "") -> Status:
        """End the shadow on ``target``; with ``drop`` the staged package is dropped too (the
        running model never changed)."""
        with self._lock:
            held = self._held.get(target)
        ref = held.ref if held else "-"
        role = self.ctx.authorize(principal, Action.CONTROLLER_DEPLOY, f"model:{ref}")
        try:
            status = stop_shadow(self._endpoint(target), signer=signer(self.ctx),
                                 session=held.session if held else 0, drop=drop)
        except PlantMLError as exc:
            self.ctx.audit_outcome(principal, role.value, "controller.shadow_stop",
                                   f"model:{ref}", result="failed", reason=str(exc),
                                   new={"target": target, "drop": drop})
            raise
        if drop:
            with self._lock:
                self._held.pop(target, None)
        self.ctx.audit_outcome(principal, role.value, "controller.shadow_stop", f"model:{ref}",
                               result="ok", reason=reason,
                               new={"target": target, "drop": drop,
                                    "state": status.state.name.lower()})
        return status
