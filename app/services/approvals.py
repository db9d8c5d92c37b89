"""Four-eyes release: an engineer proposes (signs the release body), an approver decides."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from app.audit.checkpoints import checkpoint_to_json
from app.core.canonical import canonical_bytes
from app.core.errors import (
    AuthenticationError,
    Conflict,
    IntegrityError,
    PermissionDenied,
    UsageError,
)
from app.core.lifecycle import State, check_transition
from app.core.model_version import ModelVersion
from app.core.principal import Principal
from app.core.roles import Action
from app.packages import make_body, sign_body
from app.registry.refs import RECORD_TYPE, release_hash
from app.registry.release import check_releasable, io_schema, library_versions
from app.registry.sql_store import SqlRegistryStore
from app.security import signing
from app.security.passwords import Passwords
from app.services.auth import SIGNING_PARTS, confirm_password
from app.services.base import ServiceContext

DEFAULT_VALIDITY_DAYS = 365


class ApprovalService:
    """Propose and approve or reject model versions; signatures need the password again."""

    def __init__(self, ctx: ServiceContext, passwords: Passwords) -> None:
        self.ctx = ctx
        self.passwords = passwords

    def propose(self, principal: Principal, *, ref: str, password: str,
                hardware_ids: list[str], reason: str,
                valid_days: int = DEFAULT_VALIDITY_DAYS) -> ModelVersion:
        """Fix the release body (files, release counter, hardware ids, expiry) and sign it as
        the engineer; the version then waits for an approver."""
        if not hardware_ids or any(not h.strip() or h.strip() == "*" for h in hardware_ids):
            raise UsageError("name the hardware ids this model may run on ('*' is not allowed)")
        if not 1 <= valid_days <= 3650:
            raise UsageError("validity must be between 1 and 3650 days")
        role = self.ctx.authorize(principal, Action.MODEL_PROPOSE, f"model:{ref}")

        def body(s: Session):
            store = SqlRegistryStore(s)
            version = store.version(ref)
            self.ctx.require_sealed(s, SIGNING_PARTS)
            user = confirm_password(self.ctx, self.passwords, s, principal, password,
                                    f"model:{ref}", role.value)
            if user is None:
                return None
            if version.proposed_by is not None:
                raise Conflict(f"{ref} was already proposed by {version.proposed_by}")
            check_transition(version.state, State.APPROVED, ref)
            check_releasable(version)
            files = {name: self.ctx.blobs.read_bytes(digest)
                     for name, digest in version.artifacts.items()
                     if name in _PACKAGED}
            checkpoint = self.ctx.trail.checkpoint(s)
            files["audit_checkpoint.json"] = canonical_bytes(checkpoint_to_json(checkpoint))
            self.ctx.blobs.put_bytes(files["audit_checkpoint.json"])
            inputs, outputs = io_schema(files["model.onnx"])
            counter = store.take_release_counter(version.line)
            now = self.ctx.clock.now()
            lineage = dict(version.lineage, kind=version.kind, recipe=version.recipe,
                           metrics=version.metrics, record_hash=version.record_hash)
            release = make_body(
                model_name=version.line, model_version=version.version,
                release_counter=counter,
                hardware_ids=sorted({h.strip() for h in hardware_ids}), input_schema=inputs,
                output_schema=outputs, feature_spec=version.feature_spec,
                dataset_hash=version.dataset_id, lineage=lineage,
                library_versions=library_versions(), files=files, created_at=now,
                expires_in=timedelta(days=valid_days))
            _key, private = signing.unlock_private_key(s, user, password)
            sig = sign_body(release, private, "engineer", user.username, "released", now)
            esig = signing.sign(s, user, password, signing.SignRequest(
                record_type=RECORD_TYPE, record_id=version.ref,
                record_hash=release_hash(release), meaning="released", reason=reason), now)
            self.ctx.trail.append(
                s, user=principal.username, role=role.value, action="model.propose",
                obj=f"model:{version.ref}", reason=reason,
                new={"release_counter": counter, "hardware_ids": hardware_ids,
                     "release_hash": release_hash(release), "expires_at":
                     release["expires_at"], "signature_id": esig.signature_id})
            return store.record_proposal(version.ref, proposed_by=user.username, body=release,
                                         signatures=[sig], release_counter=counter,
                                         signature_id=esig.signature_id)

        return self._signed(body, principal, role.value, "model.propose", ref)

    def decide(self, principal: Principal, *, ref: str, password: str, meaning: str,
               reason: str) -> ModelVersion:
        """Approve or reject a proposed version. Nobody decides on a version they trained
        or proposed; the signature binds the release body's hash."""
        if meaning not in ("approved", "rejected"):
            raise UsageError("the meaning of the decision is 'approved' or 'rejected'")
        if not reason.strip():
            raise UsageError("a decision needs a reason")
        role = self.ctx.authorize(principal, Action.MODEL_APPROVE, f"model:{ref}")
        with self.ctx.db.reader() as s:
            version = SqlRegistryStore(s).version(ref)
            authors = {version.created_by, version.proposed_by}
        if principal.username in authors:
            msg = (f"{principal.username} trained or proposed {ref} and may not approve or "
                   "reject it (four eyes)")
            self.ctx.audit_outcome(principal, role.value, "model.approve", f"model:{ref}",
                                   result="refused", reason=msg)
            raise PermissionDenied(msg)

        def body(s: Session):
            store = SqlRegistryStore(s)
            version = store.version(ref)
            self.ctx.require_sealed(s, SIGNING_PARTS)
            user = confirm_password(self.ctx, self.passwords, s, principal, password,
                                    f"model:{ref}", role.value)
            if user is None:
                return None
            if version.release is None:
                raise Conflict(f"{ref} has not been proposed for release yet")
            target = State.APPROVED if meaning == "approved" else State.REJECTED
            check_transition(version.state, target, ref)
            release = dict(version.release.body)
            now = self.ctx.clock.now()
            esig = signing.sign(s, user, password, signing.SignRequest(
                record_type=RECORD_TYPE, record_id=version.ref,
                record_hash=release_hash(release), meaning=meaning, reason=reason), now)
            sigs = list(version.release.signatures)
            if target is State.APPROVED:
                _key, private = signing.unlock_private_key(s, user, password)
                sigs.append(sign_body(release, private, "approver", user.username, "approved",
                                      now))
            decided = store.record_decision(version.ref, state=target.value, signatures=sigs,
                                            signature_id=esig.signature_id)
            self.ctx.trail.append(
                s, user=principal.username, role=role.value, action="model.approve",
                obj=f"model:{version.ref}", reason=reason, old={"state": version.state},
                new={"state": decided.state, "meaning": meaning,
                     "signature_id": esig.signature_id, "release_hash": release_hash(release)})
            self.ctx.trail.checkpoint(s)
            s.flush()
            return decided

        return self._signed(body, principal, role.value, "model.approve", ref)

    def _signed(self, body, principal: Principal, role: str, action: str,
                ref: str) -> ModelVersion:
        try:
            result = self.ctx.write(body)
        except (UsageError, Conflict, IntegrityError) as exc:
            # The transaction rolled back with its events: the refusal is audited apart.
            self.ctx.audit_outcome(principal, role, action, f"model:{ref}", result="refused",
                                   reason=str(exc))
            raise
        if result is None:
            raise AuthenticationError("the password was not confirmed; nothing was signed")
        return result


_PACKAGED = ("model.onnx", "validation_report.json", "parity_report.json", "model_card.md",
             "golden_inputs.npy", "golden_outputs.json")
