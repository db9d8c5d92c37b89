"""Reading the audit trail: filtered queries for people, fast row streams for verification."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from app.audit.chain import to_event
from app.core.records import AuditEvent
from app.store.schema import AuditEventRow


@dataclass(frozen=True)
class AuditFilter:
    """What to show: every field optional; ``text`` matches anywhere in the event."""

    user: str = ""
    action: str = ""
    text: str = ""
    result: str = ""
    after_seq: int = 0
    limit: int = 1000
    newest_first: bool = True


def query_events(session: Session, flt: AuditFilter) -> list[AuditEvent]:
    """Events matching ``flt``."""
    stmt = select(AuditEventRow.seq, AuditEventRow.body, AuditEventRow.prev_hash,
                  AuditEventRow.hash)
    if flt.user:
        stmt = stmt.where(AuditEventRow.user == flt.user)
    if flt.action:
        stmt = stmt.where(AuditEventRow.action.startswith(flt.action, autoescape=True))
    if flt.result:
        stmt = stmt.where(AuditEventRow.result == flt.result)
    if flt.text:
        stmt = stmt.where(AuditEventRow.body.contains(flt.text, autoescape=True))
    if flt.after_seq:
        stmt = stmt.where(AuditEventRow.seq > flt.after_seq)
    order = AuditEventRow.seq.desc() if flt.newest_first else AuditEventRow.seq.asc()
    stmt = stmt.order_by(order).limit(flt.limit)
    return [to_event(*row) for row in session.execute(stmt)]


def event_count(session: Session) -> int:
    """How many events the trail holds."""
    return session.scalar(select(func.count()).select_from(AuditEventRow)) or 0


def stream_rows(conn: sqlite3.Connection | Connection, batch: int = 10_000,
                upto: int | None = None) -> Iterator[tuple[int, str, str, str]]:
    """Rows ``(seq, body, prev_hash, hash)`` in order (up to ``upto``), fetched in batches,
    from a SQLite connection or a SQLAlchemy connection (a server-side cursor)."""
    limit = upto if upto is not None else 2**62
    if isinstance(conn, Connection):
        result = conn.execution_options(stream_results=True, yield_per=batch).execute(
            text("SELECT seq, body, prev_hash, hash FROM audit_events WHERE seq <= :upto "
                 "ORDER BY seq"), {"upto": limit})
        try:
            for row in result:
                yield int(row[0]), str(row[1]), str(row[2]), str(row[3])
        finally:
            result.close()
        return
    cur = conn.execute("SELECT seq, body, prev_hash, hash FROM audit_events WHERE seq <= ? "
                       "ORDER BY seq", (limit,))
    while True:
        chunk = cur.fetchmany(batch)
        if not chunk:
            return
        yield from chunk
