"""The registry on SQLAlchemy: the only code that reads or writes line, version and alias rows.

Rows become :class:`~app.core.model_version.ModelVersion` objects on the way out. The
stored record is ``json.dumps(record, sort_keys=True)`` and its hash the SHA-256 of its
canonical JSON, exactly as older workspaces and signed packages hold them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import NotFound, UsageError
from app.core.model_version import ModelVersion, Release
from app.core.records import ModelLineInfo, Signature
from app.registry.refs import (
    KINDS,
    RECORD_TYPE,
    check_line_name,
    parse_ref,
    record_hash,
    release_hash,
)
from app.registry.store import RegistryStore
from app.security import signing
from app.store.schema import (
    AliasHistoryRow,
    ModelAliasRow,
    ModelLineRow,
    ModelVersionRow,
    SignatureRow,
)


class SqlRegistryStore(RegistryStore):
    """The registry tables of one database, used inside the caller's session."""

    def __init__(self, session: Session) -> None:
        self.s = session

    # -- lines --------------------------------------------------------------------------
    def _line(self, name: str) -> ModelLineRow:
        row = self.s.scalar(select(ModelLineRow).where(ModelLineRow.name == name.lower()))
        if row is None:
            raise NotFound(f"there is no model line {name!r}")
        return row

    def _line_info(self, line: ModelLineRow) -> ModelLineInfo:
        count, top = self.s.execute(select(func.count(), func.max(ModelVersionRow.version))
                                    .where(ModelVersionRow.line_id == line.id)).one()
        return ModelLineInfo(name=line.name, kind=line.kind, versions=count,
                             latest_version=top or 0, aliases=self._aliases(line),
                             release_counter=line.release_counter)

    def lines(self) -> list[ModelLineInfo]:
        return [self._line_info(row) for row in
                self.s.scalars(select(ModelLineRow).order_by(ModelLineRow.name))]

    def line(self, name: str) -> ModelLineInfo:
        return self._line_info(self._line(name))

    def _ensure_line(self, name: str, kind: str, now: str, user: str) -> ModelLineRow:
        if kind not in KINDS:
            raise UsageError(f"model kind must be one of {', '.join(KINDS)}")
        name = check_line_name(name)
        row = self.s.scalar(select(ModelLineRow).where(ModelLineRow.name == name))
        if row is None:
            row = ModelLineRow(name=name, kind=kind, release_counter=0, created_at=now,
                               created_by=user)
            self.s.add(row)
            self.s.flush()
        elif row.kind != kind:
            raise UsageError(f"model line {name} holds {row.kind} models, not {kind} models")
        return row

    def ensure_line(self, name: str, kind: str, *, now: str, user: str) -> ModelLineInfo:
        return self._line_info(self._ensure_line(name, kind, now, user))

    def take_release_counter(self, line: str) -> int:
        row = self._line(line)
        row.release_counter += 1
        return row.release_counter

    def raise_release_counter(self, line: str, counter: int) -> None:
        row = self._line(line)
        row.release_counter = max(row.release_counter, counter)

    # -- versions -----------------------------------------------------------------------
    def _row(self, line: ModelLineRow, number: int) -> ModelVersionRow | None:
        return self.s.scalar(select(ModelVersionRow).where(ModelVersionRow.line_id == line.id,
                                                           ModelVersionRow.version == number))

    def _get(self, ref: str) -> tuple[ModelLineRow, ModelVersionRow]:
        line_name, number = parse_ref(ref)
        line = self._line(line_name)
        row = self._row(line, number)
        if row is None:
            raise NotFound(f"model line {line.name} has no version {number}")
        return line, row

    def _version(self, line: ModelLineRow, row: ModelVersionRow,
                 signatures: bool = False) -> ModelVersion:
        aliases = tuple(sorted(a for a, v in self._aliases(line).items() if v == row.version))
        release = None
        if row.release_body is not None:
            release = Release(body=json.loads(row.release_body),
                              signatures=tuple(json.loads(row.release_signatures or "[]")))
        return ModelVersion.from_record(
            json.loads(row.record), state=row.state, created_at=row.created_at,
            created_by=row.created_by, record_hash=row.record_hash,
            proposed_by=row.proposed_by, release_counter=row.release_counter,
            release=release, aliases=aliases,
            signatures=self._signatures(line, row) if signatures else ())

    def _signatures(self, line: ModelLineRow, row: ModelVersionRow) -> tuple[Signature, ...]:
        """The version's signatures, each verified against what it must bind: the release
        body once the version was proposed, else the version record. A mismatch raises."""
        record_id = f"{line.name}:v{row.version}"
        expected = (release_hash(json.loads(row.release_body)) if row.release_body
                    else row.record_hash)
        ids = self.s.scalars(select(SignatureRow.id)
                             .where(SignatureRow.record_type == RECORD_TYPE,
                                    SignatureRow.record_id == record_id)
                             .order_by(SignatureRow.id))
        return tuple(signing.verify(self.s, i, RECORD_TYPE, record_id, expected) for i in ids)

    def next_version(self, line: str) -> int:
        top = self.s.scalar(select(func.max(ModelVersionRow.version))
                            .where(ModelVersionRow.line_id == self._line(line).id))
        return (top or 0) + 1

    def add_version(self, version: ModelVersion) -> ModelVersion:
        line = self._line(version.line)
        record = version.to_record()
        release = version.release
        row = ModelVersionRow(
            line_id=line.id, version=version.version, state=version.state,
            record=json.dumps(record, sort_keys=True), record_hash=record_hash(record),
            created_at=version.created_at, created_by=version.created_by,
            proposed_by=version.proposed_by,
            release_body=None if release is None else json.dumps(release.body, sort_keys=True),
            release_signatures=None if release is None else json.dumps(
                [dict(x) for x in release.signatures]),
            release_counter=version.release_counter)
        self.s.add(row)
        self.s.flush()
        return self._version(line, row)

    def find_version(self, line: str, number: int) -> ModelVersion | None:
        line_row = self._line(line)
        row = self._row(line_row, number)
        return None if row is None else self._version(line_row, row)

    def version(self, ref: str, *, signatures: bool = False) -> ModelVersion:
        line, row = self._get(ref)
        return self._version(line, row, signatures)

    def versions(self, line: str, *, signatures: bool = False) -> list[ModelVersion]:
        line_row = self._line(line)
        rows = self.s.scalars(select(ModelVersionRow)
                              .where(ModelVersionRow.line_id == line_row.id)
                              .order_by(ModelVersionRow.version.desc()))
        return [self._version(line_row, r, signatures) for r in rows]

    def set_state(self, ref: str, state: str) -> ModelVersion:
        line, row = self._get(ref)
        row.state = state
        return self._version(line, row)

    def record_proposal(self, ref: str, *, proposed_by: str, body: Mapping[str, Any],
                        signatures: Sequence[Mapping[str, Any]], release_counter: int,
                        signature_id: int) -> ModelVersion:
        line, row = self._get(ref)
        row.proposed_by = proposed_by
        row.release_body = json.dumps(body, sort_keys=True)
        row.release_signatures = json.dumps([dict(x) for x in signatures])
        row.release_counter = release_counter
        row.proposal_signature_id = signature_id
        self.s.flush()
        return self._version(line, row, signatures=True)

    def record_decision(self, ref: str, *, state: str,
                        signatures: Sequence[Mapping[str, Any]],
                        signature_id: int) -> ModelVersion:
        line, row = self._get(ref)
        row.release_signatures = json.dumps([dict(x) for x in signatures])
        row.state = state
        row.decision_signature_id = signature_id
        self.s.flush()
        return self._version(line, row, signatures=True)

    # -- aliases ------------------------------------------------------------------------
    def _aliases(self, line: ModelLineRow) -> dict[str, int]:
        rows = self.s.execute(select(ModelAliasRow.alias, ModelVersionRow.version)
                              .join(ModelVersionRow, ModelVersionRow.id == ModelAliasRow.version_id)
                              .where(ModelAliasRow.line_id == line.id))
        return {alias: version for alias, version in rows}

    def aliases(self, line: str) -> dict[str, int]:
        return self._aliases(self._line(line))

    def move_alias(self, line: str, alias: str, version: int | None, *, now: str, user: str,
                   reason: str) -> int | None:
        line_row = self._line(line)
        target = None
        if version is not None:
            target = self._row(line_row, version)
            if target is None:
                raise NotFound(f"model line {line_row.name} has no version {version}")
        old_row = self.s.get(ModelAliasRow, (line_row.id, alias))
        old = self.s.get_one(ModelVersionRow, old_row.version_id).version if old_row else None
        if target is None:
            if old_row is not None:
                self.s.delete(old_row)
        elif old_row is None:
            self.s.add(ModelAliasRow(line_id=line_row.id, alias=alias, version_id=target.id,
                                     moved_at=now, moved_by=user))
        else:
            old_row.version_id, old_row.moved_at, old_row.moved_by = target.id, now, user
        self.s.add(AliasHistoryRow(line_id=line_row.id, alias=alias,
                                   version_id=target.id if target else None, moved_at=now,
                                   moved_by=user, reason=reason))
        return old

    def alias_at(self, line: str, alias: str, when: str) -> int | None:
        line_row = self._line(line)
        row = self.s.scalar(select(AliasHistoryRow)
                            .where(AliasHistoryRow.line_id == line_row.id,
                                   AliasHistoryRow.alias == alias,
                                   AliasHistoryRow.moved_at <= when)
                            .order_by(AliasHistoryRow.moved_at.desc(), AliasHistoryRow.id.desc())
                            .limit(1))
        if row is None or row.version_id is None:
            return None
        return self.s.get_one(ModelVersionRow, row.version_id).version
