"""Registry rows: lines, versions and aliases read and written inside a caller's transaction."""

from __future__ import annotations

import json
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.canonical import canonical_json, sha256_hex
from app.core.errors import NotFound, UsageError
from app.core.records import ModelLineInfo, ModelVersionInfo, Signature
from app.store.schema import (
    AliasHistoryRow,
    ModelAliasRow,
    ModelLineRow,
    ModelVersionRow,
)

KINDS = ("classifier", "regressor", "anomaly")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
#: Versions travel in u32 registers and signed 32-bit PLC tags (app.packages MAX_COUNTER).
MAX_VERSION = 2**31 - 1
_REF = re.compile(r"^(?P<line>[^:]+):v?(?P<version>\d+)$")


def check_line_name(name: str) -> str:
    """A valid, normalised line name; raises UsageError."""
    name = name.strip().lower()
    if not _NAME.match(name):
        raise UsageError(f"model line {name!r}: use lower-case letters, digits, '.', '_', '-'")
    return name


def parse_ref(ref: str) -> tuple[str, int]:
    """``line:v3`` or ``line:3`` -> (line, 3); raises UsageError."""
    m = _REF.match(ref.strip())
    if not m:
        raise UsageError(f"name a model version as LINE:vN, e.g. pump-7:v3 (not {ref!r})")
    if len(m["version"]) > 10 or int(m["version"]) > MAX_VERSION:
        raise UsageError(f"version {m['version']} of {ref!r} is out of range (at most "
                         f"{MAX_VERSION})")
    return m["line"].lower(), int(m["version"])


def record_hash(record: dict) -> str:
    """SHA-256 of the canonical JSON of a version record: what signatures bind."""
    return sha256_hex(canonical_json(record).encode("utf-8"))


def release_hash(body: dict) -> str:
    """SHA-256 of the canonical JSON of a release (package manifest) body."""
    return sha256_hex(canonical_json(body).encode("utf-8"))


def get_line(s: Session, name: str) -> ModelLineRow:
    row = s.scalar(select(ModelLineRow).where(ModelLineRow.name == name.lower()))
    if row is None:
        raise NotFound(f"there is no model line {name!r}")
    return row


def get_or_create_line(s: Session, name: str, kind: str, now: str, user: str) -> ModelLineRow:
    if kind not in KINDS:
        raise UsageError(f"model kind must be one of {', '.join(KINDS)}")
    name = check_line_name(name)
    row = s.scalar(select(ModelLineRow).where(ModelLineRow.name == name))
    if row is None:
        row = ModelLineRow(name=name, kind=kind, release_counter=0, created_at=now,
                           created_by=user)
        s.add(row)
        s.flush()
    elif row.kind != kind:
        raise UsageError(f"model line {name} holds {row.kind} models, not {kind} models")
    return row


def get_version(s: Session, ref: str) -> tuple[ModelLineRow, ModelVersionRow]:
    line_name, number = parse_ref(ref)
    line = get_line(s, line_name)
    row = s.scalar(select(ModelVersionRow).where(ModelVersionRow.line_id == line.id,
                                                 ModelVersionRow.version == number))
    if row is None:
        raise NotFound(f"model line {line.name} has no version {number}")
    return line, row


def next_version(s: Session, line: ModelLineRow) -> int:
    top = s.scalar(select(func.max(ModelVersionRow.version))
                   .where(ModelVersionRow.line_id == line.id))
    return (top or 0) + 1


def aliases_of(s: Session, line: ModelLineRow) -> dict[str, int]:
    rows = s.execute(select(ModelAliasRow.alias, ModelVersionRow.version)
                     .join(ModelVersionRow, ModelVersionRow.id == ModelAliasRow.version_id)
                     .where(ModelAliasRow.line_id == line.id))
    return {alias: version for alias, version in rows}


def move_alias(s: Session, line: ModelLineRow, alias: str, version: ModelVersionRow | None,
               now: str, user: str, reason: str) -> int | None:
    """Point ``alias`` at ``version`` (None removes it); returns the old version number."""
    old_row = s.get(ModelAliasRow, (line.id, alias))
    old = s.get(ModelVersionRow, old_row.version_id).version if old_row else None
    if version is None:
        if old_row is not None:
            s.delete(old_row)
    elif old_row is None:
        s.add(ModelAliasRow(line_id=line.id, alias=alias, version_id=version.id, moved_at=now,
                            moved_by=user))
    else:
        old_row.version_id, old_row.moved_at, old_row.moved_by = version.id, now, user
    s.add(AliasHistoryRow(line_id=line.id, alias=alias,
                          version_id=version.id if version else None, moved_at=now,
                          moved_by=user, reason=reason))
    return old


def alias_at(s: Session, line: ModelLineRow, alias: str, when: str) -> int | None:
    """Version the alias pointed to at ISO time ``when`` (None if it pointed nowhere)."""
    row = s.scalar(select(AliasHistoryRow).where(AliasHistoryRow.line_id == line.id,
                                                 AliasHistoryRow.alias == alias,
                                                 AliasHistoryRow.moved_at <= when)
                   .order_by(AliasHistoryRow.moved_at.desc(), AliasHistoryRow.id.desc())
                   .limit(1))
    if row is None or row.version_id is None:
        return None
    return s.get(ModelVersionRow, row.version_id).version


def to_info(s: Session, line: ModelLineRow, row: ModelVersionRow,
            signatures: tuple[Signature, ...] = ()) -> ModelVersionInfo:
    aliases = tuple(sorted(a for a, v in aliases_of(s, line).items() if v == row.version))
    return ModelVersionInfo(line=line.name, version=row.version, state=row.state,
                            kind=line.kind, created_at=row.created_at,
                            created_by=row.created_by, record=json.loads(row.record),
                            record_hash=row.record_hash, proposed_by=row.proposed_by,
                            release_counter=row.release_counter, aliases=aliases,
                            signatures=signatures)


def line_info(s: Session, line: ModelLineRow) -> ModelLineInfo:
    count, top = s.execute(select(func.count(), func.max(ModelVersionRow.version))
                           .where(ModelVersionRow.line_id == line.id)).one()
    return ModelLineInfo(name=line.name, kind=line.kind, versions=count,
                         latest_version=top or 0, aliases=aliases_of(s, line),
                         release_counter=line.release_counter)
