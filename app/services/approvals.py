"""Four-eyes release: an engineer proposes (signs the release body), an approver decides."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from app.audit.checkpoints import checkpoint_to_json
from app.core.canonical import canonical_bytes
from app.core.comparison import COMPARISON_ARTIFACT, Comparison
from app.core.errors import (
    AuthenticationError,
    Conflict,
    IntegrityError,
    PermissionDenied,
    PlantMLError,
    UsageError,
)
from app.core.lifecycle import State, check_transition
from app.core.model_version import ModelVersion, ParityEvidence, ValidationEvidence
from app.core.principal import Principal
from app.core.records import AuditEvent
from app.core.roles import Action
from app.packages import make_body, sign_body
from app.registry.refs import RECORD_TYPE, release_hash
from app.registry.release import check_releasable, io_schema, library_versions
from app.registry.sql_store import SqlRegistryStore
from app.security import signing
from app.security.passwords import Passwords
from app.services.auth import SIGNING_PARTS, confirm_password
from app.services.base import ServiceContext
from app.services.registry import RegistryService, evidence_lines

DEFAULT_VALIDITY_DAYS = 365
#: The word an approval reason must contain to accept a version flagged "not robust".
NOT_ROBUST_WORD = "robust"


@dataclass(frozen=True)
class ApprovalEvidence:
    """Everything an approver reviews before signing one version: the version, its
    validation (robustness table, "not robust" flag, leave-one-condition-out results,
    inputs, envelope, label rule), its parity gate and its audit trail.

    ``problems`` names reports that could not be read (a damaged blob is shown, not
    hidden). ``lines()`` is the whole evidence as plain text, as ``plantml approve`` prints
    it and the approval dialog may show it.
    """

    version: ModelVersion
    validation: ValidationEvidence | None
    parity: ParityEvidence | None
    history: tuple[AuditEvent, ...] = ()
    problems: tuple[str, ...] = field(default_factory=tuple)
    comparison: Comparison | None = None  # a challenger's, against its champion

    @property
    def not_robust(self) -> bool:
        """True when the version failed its robustness evidence: approving it needs an
        explicit acceptance (``accept_not_robust``) and a reason that mentions it."""
        return self.validation is not None and self.validation.not_robust

    def lines(self) -> list[str]:
        """The evidence in words, one fact per line."""
        v = self.version
        out = [f"{v.ref} ({v.kind}), state {v.state}" + ("  NOT ROBUST" if self.not_robust
                                                          else ""),
               f"trained by {v.created_by} on {v.created_at[:19]}; proposed by "
               f"{v.proposed_by or '(not yet)'}", f"dataset {v.dataset_id}"]
        gate = "passed" if v.parity.passed else f"NOT passed ({v.parity.blocked_reason})"
        if self.parity is not None:
            p = self.parity
            agreement = "-" if p.label_agreement is None else f"{p.label_agreement:.4%}"
            gate += (f"; label agreement {agreement} on {p.n_windows} windows, max feature "
                     f"error {p.feature_max_rel_err or 0:.2e} (relative), bad golden inputs "
                     f"flagged invalid {p.golden_bad_flagged} of {p.golden_bad}")
        out.append(f"Parity gate: {gate}")
        out += (evidence_lines(self.validation) if self.validation is not None
                else ["Validation: no report stored with this version"])
        if self.comparison is not None:
            out += self.comparison.lines()
        out += [f"Cannot show: {problem}" for problem in self.problems]
        out.append(f"Audit trail of {v.ref}:")
        out += [f"  #{e.seq} {e.ts[:19]} {e.user} {e.action} {e.result}"
                + (f" ({e.reason})" if e.reason else "") for e in self.history]
        if self.not_robust:
            out.append("Approving this version needs an explicit acceptance that it is not "
                       "robust, and a reason that says why (it is audited).")
        return out


class ApprovalService:
    """Propose and approve or reject model versions; signatures need the password again."""

    def __init__(self, ctx: ServiceContext, passwords: Passwords) -> None:
        self.ctx = ctx
        self.passwords = passwords
        self.registry = RegistryService(ctx)

    def evidence(self, principal: Principal, *, ref: str) -> ApprovalEvidence:
        """What the approver reviews for ``ref`` (read access; nothing is signed here)."""
        version = self.registry.show(principal, ref=ref)
        problems, validation, parity = [], None, None
        try:
            validation = self.registry.validation(principal, ref=ref)
        except PlantMLError as exc:
            problems.append(f"validation report: {exc}")
        try:
            parity = self.registry.parity_report(principal, ref=ref)
        except PlantMLError as exc:
            problems.append(f"parity report: {exc}")
        comparison = None
        if COMPARISON_ARTIFACT in version.artifacts:
            try:
                comparison = Comparison.from_report(json.loads(self.registry.artifact(
                    principal, ref=ref, name=COMPARISON_ARTIFACT)))
            except (PlantMLError, ValueError) as exc:
                problems.append(f"champion/challenger comparison: {exc}")
        history = tuple(self.registry.history(principal, ref=ref))
        return ApprovalEvidence(version=version, validation=validation, parity=parity,
                                history=history, problems=tuple(problems),
                                comparison=comparison)

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
               reason: str, accept_not_robust: bool = False) -> ModelVersion:
        """Approve or reject a proposed version. Nobody decides on a version they trained
        or proposed; the signature binds the release body's hash. Approving a version
        flagged "not robust" is refused (audited) unless ``accept_not_robust`` is given and
        the reason mentions its robustness; the acceptance is audited with the reasons."""
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
        accepted = self._check_robustness(principal, role.value, ref, meaning, reason,
                                          accept_not_robust)

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
                     "signature_id": esig.signature_id, "release_hash": release_hash(release),
                     **accepted})
            self.ctx.trail.checkpoint(s)
            s.flush()
            return decided

        return self._signed(body, principal, role.value, "model.approve", ref)

    def _check_robustness(self, principal: Principal, role: str, ref: str, meaning: str,
                          reason: str, accept: bool) -> dict:
        """Refuse (audited) to approve a "not robust" version without an explicit, reasoned
        acceptance; returns what the approval event records about it."""
        if meaning != "approved":
            return {}
        evidence = self.registry.validation(principal, ref=ref)
        if evidence is None or not evidence.not_robust:
            return {}
        robustness = evidence.robustness
        assert robustness is not None  # not_robust means it was measured
        why = "; ".join(robustness.reasons) or "see the robustness table"
        if not accept:
            msg = (f"{ref} is flagged NOT ROBUST ({why}); approving it needs an explicit "
                   "acceptance (plantml approve --accept-not-robust) and a reason that says "
                   "why it is acceptable")
        elif NOT_ROBUST_WORD not in reason.lower():
            msg = (f"{ref} is flagged NOT ROBUST: the reason must say why that is acceptable "
                   f"(mention its robustness), not only {reason.strip()!r}")
        else:
            return {"accepted_not_robust": True,
                    "robustness_reasons": list(robustness.reasons)}
        self.ctx.audit_outcome(principal, role, "model.approve", f"model:{ref}",
                               result="refused", reason=msg)
        raise UsageError(msg)

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
