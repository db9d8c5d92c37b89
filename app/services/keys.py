"""Trusted signing keys: list, hand to another workstation, take in, revoke (admin only)."""

from __future__ import annotations

import builtins
import json
from pathlib import Path

from sqlalchemy.orm import Session

from app.core.errors import IntegrityError, NotFound, UsageError
from app.core.principal import Principal
from app.core.roles import Action, Role, acting_role
from app.packages import TrustedKey, TrustStore
from app.services.base import ServiceContext
from app.services.command_key import trust_entry
from app.services.trust import load_trust, save_trust
from app.store.durable import durable_write

#: TrustedKey is the record :meth:`KeyService.list` returns (front ends name it from here).
__all__ = ["KeyService", "TrustedKey"]


class KeyService:
    """The workstation's trust store, changed only by an administrator and audited."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def list(self, principal: Principal) -> list[TrustedKey]:
        """Every trusted key, revoked ones included: for those who read models (what signed
        them) and for the administrators who manage the keys."""
        manages = acting_role(principal.roles, Action.KEYS_MANAGE) is not None
        self.ctx.authorize(principal, Action.KEYS_MANAGE if manages else Action.MODEL_READ)
        return list(self.ctx.checked_read(load_trust, ("trust",)).keys)

    def export(self, principal: Principal, *, path: Path) -> int:
        """Write the trusted public keys (and release counters) to ``path`` for another
        workstation or a controller; returns how many keys."""
        role = self.ctx.authorize(principal, Action.KEYS_MANAGE, str(path))
        path = Path(path)
        problem = (f"{path} is a folder; name the file to write the trusted keys to"
                   if path.is_dir() else f"{path}: the folder {path.parent} does not exist"
                   if not path.parent.is_dir() else "")
        if problem:
            self.ctx.audit_outcome(principal, role.value, "keys.export", str(path),
                                   result="refused", reason=problem)
            raise UsageError(problem)
        store = self.ctx.checked_read(load_trust, ("trust",))
        # Exactly the trust-store document, so a controller can pin it as it is, plus this
        # workstation's controller-command key (protocol 2), which signs no package.
        doc = store.to_dict()
        if store.key(self.ctx.trail.key.key_id) is None:
            doc["keys"].append(trust_entry(self.ctx))
        durable_write(Path(path), json.dumps(doc, indent=2, sort_keys=True).encode("utf-8"))
        self.ctx.audit_outcome(principal, Role.ADMIN.value, "keys.export", str(path),
                               result="ok", new={"keys": len(store.keys),
                                                 "command_key": self.ctx.trail.key.key_id})
        return len(doc["keys"])

    def import_keys(self, principal: Principal, *, path: Path, reason: str) -> builtins.list[str]:
        """Trust the keys of an export from another workstation (revocations included);
        returns the ids added or changed."""
        if not reason.strip():
            raise UsageError("say why these keys are trusted")
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IntegrityError(f"{path} is not a readable key file: {exc}") from exc
        if not isinstance(doc, dict) or "keys" not in doc:
            raise IntegrityError(f"{path} is not a PlantML trusted-keys export")
        incoming = TrustStore.from_dict({"keys": doc.get("keys"), "counters": {}}, str(path))

        def change(s: Session, _role: Role):
            store = load_trust(s)
            changed = []
            for key in incoming.keys:
                mine = store.key(key.key_id)
                if mine is None:
                    store.keys.append(key)
                    changed.append(key.key_id)
                elif key.revoked and not mine.revoked:
                    store.revoke_key(key.key_id, self.ctx.clock.now(), key.replaced_by)
                    changed.append(key.key_id)
            save_trust(s, store)
            return None, {"keys": changed, "from": str(path)}, changed

        return self.ctx.audited(principal, Action.KEYS_MANAGE, "trust-store", change,
                                reason=reason)

    def revoke(self, principal: Principal, *, key_id: str, reason: str) -> TrustedKey:
        """Revoke a key: packages it signed are refused from now on."""
        if not reason.strip():
            raise UsageError("say why the key is revoked")

        def change(s: Session, _role: Role):
            store = load_trust(s)
            if store.key(key_id) is None:
                raise NotFound(f"no trusted key {key_id}")
            key = store.revoke_key(key_id, self.ctx.clock.now())
            save_trust(s, store)
            return {"revoked": False}, {"revoked": True, "user": key.user}, key

        return self.ctx.audited(principal, Action.KEYS_MANAGE, f"key:{key_id}", change,
                                reason=reason)
