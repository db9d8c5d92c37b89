"""Shadow mode from the workstation: stage a package beside the running model (SHADOW), read
the comparison, then promote it (ACTIVATE, COMMIT) or stop it and drop the package."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import Cancelled
from app.core.progress import NEVER_CANCELLED, CancelToken, ProgressFn, no_progress
from app.devices.flash.client import Flasher, FlashOptions, _abort_quietly
from app.devices.flash.device import ControllerClient
from app.devices.flash.errors import FlashCancelled, FlashFailed, ProtocolError, SignerMissing
from app.devices.flash.payload import PackageFacts, check_fit, plan_transfer
from app.devices.flash.views import ShadowStatus, Status
from app.devices.protocol.codes import Command, State
from app.devices.protocol.proof import CommandSigner
from app.fieldbus import DeviceError, Endpoint, LinkLost, LinkTimeout, ModbusLink, RetryPolicy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ShadowStart:
    """A package staged and running in shadow. ``session`` is the transfer session it was
    staged in: only a client holding it may promote it or drop it (protocol 2)."""

    endpoint: str
    package_sha256: str
    session: int
    status: Status
    shadow: ShadowStatus


def _shadow_of(client: ControllerClient) -> ShadowStatus:
    shadow = client.shadow_status()
    if shadow is None:
        raise ProtocolError(f"the controller at {client.link.endpoint} has no shadow mode "
                            "(no shadow block at IR 6400): update its runtime (plantml-edge)",
                            step="shadow", register=6400)
    return shadow


def read_shadow(endpoint: Endpoint, policy: RetryPolicy | None = None) -> ShadowStatus | None:
    """The shadow block of one controller; None from a controller without shadow mode."""
    with ControllerClient.open(endpoint, policy) as client:
        return client.shadow_status()


def start_shadow(endpoint: Endpoint, package_path: Path, *, signer: CommandSigner | None,
                 policy: RetryPolicy | None = None, options: FlashOptions | None = None,
                 progress: ProgressFn = no_progress,
                 cancel: CancelToken = NEVER_CANCELLED) -> ShadowStart:
    """Stage the package at ``package_path`` (the caller verified it and checked who may
    deploy it) in the controller's inactive slot, verified and self-tested, and start it in
    shadow beside the running model, which stays the one the controller publishes.

    Raises like :func:`~app.devices.flash.client.flash_package`; on any failure but a lost
    link the staged package is dropped again (nothing half-done stays behind).
    """
    if signer is None:
        raise SignerMissing("shadow mode needs the workstation's command signer (protocol 2)",
                            step="shadow")
    opt = options or FlashOptions()
    facts = PackageFacts.read(package_path)
    data = Path(package_path).read_bytes()
    client = ControllerClient(ModbusLink(endpoint, policy), signer)
    try:
        progress(0.0, f"connecting to {endpoint}")
        identity = client.identity()
        _shadow_of(client)  # before sending anything: an older runtime has no shadow mode
        plan = plan_transfer(data, identity, endpoint, compress=opt.compress,
                             chunk_size=opt.chunk_size)
        check_fit(plan, identity, facts)
        log.info("staging %s in shadow on %s", facts, endpoint)
        try:
            Flasher(client, plan, opt, progress, cancel).stage()
            progress(0.96, "shadow")
            client.send(Command.SHADOW)
            shadow = _shadow_of(client)
        except Cancelled:
            st = _abort_quietly(client)
            raise FlashCancelled("shadow cancelled; the controller dropped the staged package",
                                 step="cancel", status=st) from None
        except DeviceError as exc:
            if not isinstance(exc, LinkLost | LinkTimeout):
                exc.status = _abort_quietly(client) or exc.status
            raise
        progress(1.0, "in shadow")
        return ShadowStart(endpoint=str(endpoint), package_sha256=plan.sha256,
                           session=client.session, status=client.status(), shadow=shadow)
    finally:
        client.close()


def promote_shadow(endpoint: Endpoint, *, signer: CommandSigner | None, session: int,
                   package_sha256: str, policy: RetryPolicy | None = None,
                   options: FlashOptions | None = None) -> Status:
    """ACTIVATE and COMMIT the package staged in shadow by ``session``; returns the status
    read back (the controller reverts by itself if the commit never arrives)."""
    opt = options or FlashOptions()
    with ControllerClient.open(endpoint, policy, signer) as client:
        client.session = session
        st = client.run(Command.ACTIVATE, opt.step_timeout_s, arg0=opt.commit_deadline_s or 0)
        if st.state is not State.ACTIVE_UNCONFIRMED or st.active is None or \
                st.active.sha256 != package_sha256:
            raise FlashFailed(f"after ACTIVATE the controller reports {st.summary()}",
                              step="ACTIVATE", status=st)
        client.run(Command.COMMIT, opt.step_timeout_s)
        client.session = 0  # committed: the transfer session is over
        return client.status()


def stop_shadow(endpoint: Endpoint, *, signer: CommandSigner | None, session: int = 0,
                drop: bool = False, policy: RetryPolicy | None = None) -> Status:
    """SHADOW_STOP; with ``drop`` also ABORT the staged package (in ``session``)."""
    with ControllerClient.open(endpoint, policy, signer) as client:
        client.session = session
        client.shadow_stop()
        if drop:
            client.send(Command.ABORT)
            client.session = 0
        return client.status()
