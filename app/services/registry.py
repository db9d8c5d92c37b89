"""Model registry use cases: register versions, list, show, compare, aliases, retire."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit.reading import query_events
from app.core.errors import UsageError
from app.core.lifecycle import State, check_transition
from app.core.principal import Principal
from app.core.records import AuditEvent, ModelLineInfo, ModelVersionInfo, Signature
from app.core.roles import Action, Role
from app.registry import repo
from app.security import signing
from app.services.audit import AuditFilter
from app.services.base import ServiceContext
from app.store.schema import ModelLineRow, ModelVersionRow, SignatureRow

RECORD_TYPE = "model-version"
ALIAS_NAME_MAX = 40


class RegistryService:
    """Lines, versions and aliases; every change audited, lifecycle enforced here."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def register(self, principal: Principal, *, line: str, kind: str, dataset_id: str,
                 feature_spec: dict, recipe: dict, metrics: dict, lineage: dict,
                 artifacts: dict[str, bytes], parity_passed: bool,
                 blocked_reason: str = "") -> ModelVersionInfo:
        """Store a trained model's artifacts and lineage as the line's next version.

        It starts VALIDATED if it passed the parity gate, else DRAFT with the reason.
        """
        if "model.onnx" not in artifacts:
            raise UsageError("a model version needs its model.onnx")
        name = repo.check_line_name(line)
        role = self.ctx.authorize(principal, Action.MODEL_TRAIN, f"model:{name}")
        stored = {n: self.ctx.blobs.put_bytes(data) for n, data in sorted(artifacts.items())}

        def change(s: Session) -> ModelVersionInfo:
            now = self.ctx.clock.now().isoformat()
            line_row = repo.get_or_create_line(s, name, kind, now, principal.username)
            number = repo.next_version(s, line_row)
            record = {"line": name, "version": number, "kind": kind, "dataset_id": dataset_id,
                      "feature_spec": feature_spec, "recipe": recipe, "metrics": metrics,
                      "lineage": lineage, "artifacts": stored,
                      "parity": {"passed": parity_passed, "blocked_reason": blocked_reason}}
            state = State.VALIDATED if parity_passed else State.DRAFT
            row = ModelVersionRow(line_id=line_row.id, version=number, state=state.value,
                                  record=json.dumps(record, sort_keys=True),
                                  record_hash=repo.record_hash(record), created_at=now,
                                  created_by=principal.username)
            s.add(row)
            s.flush()
            self.ctx.trail.append(
                s, user=principal.username, role=role.value, action="model.register",
                obj=f"model:{name}:v{number}", reason=blocked_reason,
                new={"state": state.value, "record_hash": row.record_hash,
                     "dataset_id": dataset_id, "onnx": stored["model.onnx"]})
            return repo.to_info(s, line_row, row)

        return self.ctx.write(change)

    def lines(self, principal: Principal) -> list[ModelLineInfo]:
        """Every model line."""
        self.ctx.authorize(principal, Action.MODEL_READ)
        with self.ctx.db.reader() as s:
            return [repo.line_info(s, row) for row in
                    s.scalars(select(ModelLineRow).order_by(ModelLineRow.name))]

    def versions(self, principal: Principal, *, line: str) -> list[ModelVersionInfo]:
        """All versions of a line, newest first."""
        self.ctx.authorize(principal, Action.MODEL_READ)
        with self.ctx.db.reader() as s:
            line_row = repo.get_line(s, line)
            rows = s.scalars(select(ModelVersionRow).where(ModelVersionRow.line_id == line_row.id)
                             .order_by(ModelVersionRow.version.desc()))
            return [repo.to_info(s, line_row, r, version_signatures(s, line_row, r)) for r in rows]

    def show(self, principal: Principal, *, ref: str) -> ModelVersionInfo:
        """One version with its signatures and aliases."""
        self.ctx.authorize(principal, Action.MODEL_READ)
        with self.ctx.db.reader() as s:
            line_row, row = repo.get_version(s, ref)
            return repo.to_info(s, line_row, row, version_signatures(s, line_row, row))

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
        digest = info.record["artifacts"].get(name)
        if digest is None:
            raise UsageError(f"{info.ref} has no artifact {name!r}; it has "
                             f"{', '.join(sorted(info.record['artifacts']))}")
        return self.ctx.blobs.read_bytes(digest)

    def compare(self, principal: Principal, *, a: str, b: str) -> dict[str, tuple]:
        """Side by side: every top-level and metric field that differs, as (a, b)."""
        va, vb = self.show(principal, ref=a), self.show(principal, ref=b)
        out: dict[str, tuple] = {}
        for key in ("state", "kind", "created_by", "release_counter"):
            if getattr(va, key) != getattr(vb, key):
                out[key] = (getattr(va, key), getattr(vb, key))
        for key in sorted(set(va.record) | set(vb.record)):
            if key in ("version", "artifacts"):
                continue
            x, y = va.record.get(key), vb.record.get(key)
            if isinstance(x, dict) and isinstance(y, dict):
                for sub in sorted(set(x) | set(y)):
                    if x.get(sub) != y.get(sub):
                        out[f"{key}.{sub}"] = (x.get(sub), y.get(sub))
            elif x != y:
                out[key] = (x, y)
        for name in sorted(set(va.record["artifacts"]) | set(vb.record["artifacts"])):
            x, y = va.record["artifacts"].get(name), vb.record["artifacts"].get(name)
            if x != y:
                out[f"artifacts.{name}"] = (x and x[:12], y and y[:12])
        return out

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
            line_row, row = repo.get_version(s, ref)
            if alias == "production" and row.state != State.APPROVED.value:
                raise UsageError(f"{ref} is {row.state}: only an approved version can be "
                                 "production")
            old = repo.move_alias(s, line_row, alias, row, self.ctx.clock.now().isoformat(),
                                  principal.username, reason)
            return {"alias": alias, "version": old}, {"alias": alias, "version": row.version}, old

        line_name, _ = repo.parse_ref(ref)
        return self.ctx.audited(principal, Action.MODEL_ALIAS, f"model:{line_name}", change,
                                reason=reason)

    def alias_at(self, principal: Principal, *, line: str, alias: str, when: str) -> int | None:
        """Which version ``alias`` named at ISO time ``when``."""
        self.ctx.authorize(principal, Action.MODEL_READ)
        with self.ctx.db.reader() as s:
            return repo.alias_at(s, repo.get_line(s, line), alias.lower(), when)

    def retire(self, principal: Principal, *, ref: str, reason: str) -> ModelVersionInfo:
        """Withdraw a version; its aliases are removed (audited)."""
        if not reason.strip():
            raise UsageError("say why the version is retired")

        def change(s: Session, _role: Role):
            line_row, row = repo.get_version(s, ref)
            check_transition(row.state, State.RETIRED, ref)
            old = row.state
            row.state = State.RETIRED.value
            for alias, version in repo.aliases_of(s, line_row).items():
                if version == row.version:
                    repo.move_alias(s, line_row, alias, None, self.ctx.clock.now().isoformat(),
                                    principal.username, f"{ref} retired")
            return {"state": old}, {"state": row.state}, repo.to_info(s, line_row, row)

        return self.ctx.audited(principal, Action.MODEL_RETIRE, f"model:{ref}", change,
                                reason=reason)


def version_signatures(s: Session, line: ModelLineRow,
                       row: ModelVersionRow) -> tuple[Signature, ...]:
    """The version's signatures, each verified against what it must bind: the release body
    once the version was proposed, else the version record. A mismatch raises."""
    record_id = f"{line.name}:v{row.version}"
    expected = (repo.release_hash(json.loads(row.release_body)) if row.release_body
                else row.record_hash)
    ids = s.scalars(select(SignatureRow.id).where(SignatureRow.record_type == RECORD_TYPE,
                                                  SignatureRow.record_id == record_id)
                    .order_by(SignatureRow.id))
    return tuple(signing.verify(s, i, RECORD_TYPE, record_id, expected) for i in ids)


def _mentions(event: AuditEvent, version: int) -> bool:
    return any(isinstance(v, dict) and v.get("version") == version
               for v in (event.old, event.new))
