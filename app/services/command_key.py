"""The workstation's controller-command signer (protocol 2, issue 15.4): this workstation's
protected Ed25519 key (the audit key of app.audit.keys: kept encrypted at rest, owner-only)
signs the commands operators send to controllers, domain-separated from everything else it
signs; ``plantml keys export`` puts its public half into the trust file with the operator role,
so a controller pinned to that file obeys this workstation and no other Modbus master."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization

from app.audit.keys import AuditKey
from app.packages.timefmt import iso_utc
from app.packages.trust import COMMAND_ROLE
from app.services.base import ServiceContext


class WorkstationSigner:
    """A :class:`app.devices.protocol.proof.CommandSigner` over the workstation's key. Only
    the controller service makes one, after the operator's role was checked."""

    def __init__(self, key: AuditKey) -> None:
        self._key = key

    @property
    def key_id(self) -> str:
        return self._key.key_id

    def sign(self, message: bytes) -> bytes:
        # proof.DOMAIN starts the message: never canonical JSON, never a checkpoint.
        return bytes.fromhex(self._key.sign(message))


def signer(ctx: ServiceContext) -> WorkstationSigner:
    """The signer of this workstation's controller commands."""
    return WorkstationSigner(ctx.trail.key)


def trust_entry(ctx: ServiceContext) -> dict[str, Any]:
    """The trust-file entry of this workstation's command key (role ``operator``)."""
    key = ctx.trail.key
    raw = key.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return {"key_id": key.key_id, "public_key": raw.hex(),
            "user": f"workstation:{ctx.trail.workstation}", "roles": [COMMAND_ROLE],
            "added_at": iso_utc(ctx.clock.now()), "revoked_at": None, "replaced_by": None}
