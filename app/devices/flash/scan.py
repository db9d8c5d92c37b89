"""Find controllers: what answers at given endpoints; read status and live data, roll back."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from app.devices.flash.device import ControllerClient
from app.devices.flash.views import Identity, Live, Security, Status
from app.devices.protocol.proof import CommandSigner
from app.fieldbus import DeviceError, Endpoint, RetryPolicy

log = logging.getLogger(__name__)

#: Scans should be quick: one try, a short timeout.
SCAN_POLICY = RetryPolicy(timeout_s=0.5, timeout_retries=0, busy_retries=2)


@dataclass(frozen=True)
class ScanResult:
    """One endpoint: its identity and status, or the reason it could not be read."""

    endpoint: Endpoint
    identity: Identity | None = None
    status: Status | None = None
    error: str | None = None

    @property
    def found(self) -> bool:
        return self.identity is not None


def scan(endpoints: Iterable[Endpoint], policy: RetryPolicy | None = None) -> list[ScanResult]:
    """Read identity and status at each endpoint; an endpoint that fails is reported, not
    raised."""
    results = []
    for ep in endpoints:
        try:
            with ControllerClient.open(ep, policy or SCAN_POLICY) as client:
                results.append(ScanResult(ep, client.identity(), client.status()))
        except DeviceError as exc:
            log.info("nothing usable at %s: %s", ep, exc)
            results.append(ScanResult(ep, error=str(exc)))
    return results


def read_status(endpoint: Endpoint, policy: RetryPolicy | None = None) -> Status:
    """The status block of one controller."""
    with ControllerClient.open(endpoint, policy) as client:
        return client.status()


def read_live(endpoint: Endpoint, policy: RetryPolicy | None = None) -> Live:
    """Latest prediction, scores, features and running statistics of one controller."""
    with ControllerClient.open(endpoint, policy) as client:
        return client.live()


def read_security(endpoint: Endpoint, policy: RetryPolicy | None = None) -> Security:
    """The security block of one controller: challenge, session, refusal record."""
    with ControllerClient.open(endpoint, policy) as client:
        return client.security()


def rollback(endpoint: Endpoint, policy: RetryPolicy | None = None, timeout_s: float = 60.0,
             *, signer: CommandSigner | None) -> Status:
    """Make the controller go back to its previous model (a signed ROLLBACK); returns the
    status read back."""
    with ControllerClient.open(endpoint, policy, signer) as client:
        return client.rollback(timeout_s)
