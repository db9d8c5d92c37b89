"""Model registry use cases: register versions, list, show, compare, aliases, retire."""

from __future__ import annotations

import json

from sqlalchemy.orm import Session

from app.audit.reading import query_events
from app.core.errors import IntegrityError, UsageError
from app.core.lifecycle import State, check_transition
from app.core.model_version import (
    MODEL_CARD,
    PARITY_REPORT,
    VALIDATION_REPORT,
    ModelVersion,
    ParityEvidence,
    ParityResult,
    ValidationEvidence,
)
from app.core.principal import Principal
from app.core.records import AuditEvent, ModelLineInfo
from app.core.roles import Action, Role
from app.ml.report import evidence_lines, robustness_lines, verdict_line
from app.registry.compare import diff_versions
from app.registry.refs import check_line_name, parse_ref
from app.registry.sql_store import SqlRegistryStore
from app.services.audit import AuditFilter
from app.services.base import ServiceContext

ALIAS_NAME_MAX = 40

#: Text views of the typed evidence, for the CLI and the GUI (plain lines, no JSON).
__all__ = ["RegistryService", "evidence_lines", "robustness_lines", "verdict_line"]


class RegistryService:
    """Lines, versions and aliases; every change audited, lifecycle enforced here."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def register(self, principal: Principal, *, line: str, kind: str, dataset_id: str,
                 feature_spec: dict, recipe: dict, metrics: dict, lineage: dict,
                 artifacts: dict[str, bytes], parity_passed: bool,
                 blocked_reason: str = "") -> ModelVersion:
        """Store a trained model's artifacts and lineage as the line's next version.

        It starts VALIDATED if it passed the parity gate, else DRAFT with the reason.
        """
        if "model.onnx" not in artifacts:
            raise UsageError("a model version needs its model.onnx")
        name = check_line_name(line)
        role = self.ctx.authorize(principal, Action.MODEL_TRAIN, f"model:{name}")
        stored = {n: self.ctx.blobs.put_bytes(data) for n, data in sorted(artifacts.items())}

        def change(s: Session) -> ModelVersion:
            store = SqlRegistryStore(s)
            now = self.ctx.clock.now().isoformat()
            store.ensure_line(name, kind, now=now, user=principal.username)
            state = State.VALIDATED if parity_passed else State.DRAFT
            version = store.add_version(ModelVersion(
                line=name, version=store.next_version(name), kind=kind, dataset_id=dataset_id,
                feature_spec=feature_spec, recipe=recipe, metrics=metrics, lineage=lineage,
                artifacts=stored,
                parity=ParityResult(passed=parity_passed, blocked_reason=blocked_reason),
                state=state.value, created_at=now, created_by=principal.username))
            self.ctx.trail.append(
                s, user=principal.username, role=role.value, action="model.register",
                obj=f"model:{version.ref}", reason=blocked_reason,
                new={"state": state.value, "record_hash": version.record_hash,
                     "dataset_id": dataset_id, "onnx": stored["model.onnx"]})
            return version

        return self.ctx.write(change)

    def lines(self, principal: Principal) -> list[ModelLineInfo]:
        """Every model line."""
        self.ctx.authorize(principal, Action.MODEL_READ)
        with self.ctx.db.reader() as s:
            return SqlRegistryStore(s).lines()

    def versions(self, principal: Principal, *, line: str) -> list[ModelVersion]:
        """All versions of a line, newest first."""
        self.ctx.authorize(principal, Action.MODEL_READ)
        with self.ctx.db.reader() as s:
            return SqlRegistryStore(s).versions(line, signatures=True)

    def show(self, principal: Principal, *, ref: str) -> ModelVersion:
        """One version with its signatures and aliases."""
        self.ctx.authorize(principal, Action.MODEL_READ)
        with self.ctx.db.reader() as s:
            return SqlRegistryStore(s).version(ref, signatures=True)

    def history(self, principal: Principal, *, ref: str) -> list[AuditEvent]:
        """The audit trail of one version (and of its line's aliases), oldest first."""
        info = self.show(principal, ref=ref)
        with self.ctx.db.reader() as s:
            events = query_events(s, AuditFilter(text=f'"model:{info.line}', limit=100_000,
                                                 newest_first=False))
        return [e for e in events if e.object in (f"model:{info.ref}", f"model:{info.line}")
                and (e.object == f"model:{info.ref}" or _mentions(e, info.version))]

    def artifact(self, principal: Principal, *, ref: str, name: str) -> bytes:
        """One stored artifact of a version (hash-checked)."""
        info = self.show(principal, ref=ref)
        digest = info.artifacts.get(name)
        if digest is None:
            raise UsageError(f"{info.ref} has no artifact {name!r}; it has "
                             f"{', '.join(sorted(info.artifacts))}")
        return self.ctx.blobs.read_bytes(digest)

    def validation(self, principal: Principal, *, ref: str) -> ValidationEvidence | None:
        """The version's validation report, typed (None if it has none, e.g. imported
        without one); IntegrityError if the stored report is not readable JSON."""
        data = self._report(principal, ref, VALIDATION_REPORT)
        return None if data is None else ValidationEvidence.from_report(data)

    def parity_report(self, principal: Principal, *, ref: str) -> ParityEvidence | None:
        """The version's parity report, typed (None if it has none)."""
        data = self._report(principal, ref, PARITY_REPORT)
        return None if data is None else ParityEvidence.from_report(data)

    def card(self, principal: Principal, *, ref: str) -> str:
        """The version's model card text ('' if it has none)."""
        info = self.show(principal, ref=ref)
        if info.artifact_digest(MODEL_CARD) is None:
            return ""
        return self.artifact(principal, ref=ref, name=MODEL_CARD).decode("utf-8", "replace")

    def _report(self, principal: Principal, ref: str, name: str) -> dict | None:
        info = self.show(principal, ref=ref)
        if info.artifact_digest(name) is None:
            return None
        raw = self.artifact(principal, ref=ref, name=name)
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise IntegrityError(f"the {name} of {info.ref} is not readable JSON ({exc})"
                                 ) from None

    def compare(self, principal: Principal, *, a: str, b: str) -> dict[str, tuple]:
        """Side by side: every top-level and metric field that differs, as (a, b)."""
        return diff_versions(self.show(principal, ref=a), self.show(principal, ref=b))

    def set_alias(self, principal: Principal, *, ref: str, alias: str, reason: str) -> int | None:
        """Point ``alias`` of the version's line at it; returns the version it pointed to.

        ``production`` may only point at approved versions.
        """
        alias = alias.strip().lower()
        if not alias or len(alias) > ALIAS_NAME_MAX or ":" in alias:
            raise UsageError("an alias is a short name such as production or candidate")
        if not reason.strip():
            raise UsageError("say why the alias moves")

        def change(s: Session, _role: Role):
            store = SqlRegistryStore(s)
            version = store.version(ref)
            if alias == "production" and version.state != State.APPROVED.value:
                raise UsageError(f"{ref} is {version.state}: only an approved version can be "
                                 "production")
            old = store.move_alias(version.line, alias, version.version,
                                   now=self.ctx.clock.now().isoformat(),
                                   user=principal.username, reason=reason)
            return ({"alias": alias, "version": old},
                    {"alias": alias, "version": version.version}, old)

        line_name, _ = parse_ref(ref)
        return self.ctx.audited(principal, Action.MODEL_ALIAS, f"model:{line_name}", change,
                                reason=reason)

    def alias_at(self, principal: Principal, *, line: str, alias: str, when: str) -> int | None:
        """Which version ``alias`` named at ISO time ``when``."""
        self.ctx.authorize(principal, Action.MODEL_READ)
        with self.ctx.db.reader() as s:
            return SqlRegistryStore(s).alias_at(line, alias.lower(), when)

    def retire(self, principal: Principal, *, ref: str, reason: str) -> ModelVersion:
        """Withdraw a version; its aliases are removed (audited)."""
        if not reason.strip():
            raise UsageError("say why the version is retired")

        def change(s: Session, _role: Role):
            store = SqlRegistryStore(s)
            version = store.version(ref)
            check_transition(version.state, State.RETIRED, ref)
            retired = store.set_state(ref, State.RETIRED.value)
            for alias, number in store.aliases(version.line).items():
                if number == version.version:
                    store.move_alias(version.line, alias, None,
                                     now=self.ctx.clock.now().isoformat(),
                                     user=principal.username, reason=f"{ref} retired")
            return {"state": version.state}, {"state": retired.state}, store.version(ref)

        return self.ctx.audited(principal, Action.MODEL_RETIRE, f"model:{ref}", change,
                                reason=reason)


def _mentions(event: AuditEvent, version: int) -> bool:
    return any(isinstance(v, dict) and v.get("version") == version
               for v in (event.old, event.new))
