"""The row stream an export and a verification read: in order, up to the sequence asked for
(events appended after an export's checkpoint stay out of it) and all of them when none is,
through a plain SQLite connection and through SQLAlchemy's (PostgreSQL's path) alike."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.audit.reading import stream_rows
from app.store.schema import AuditEventRow


@pytest.fixture
def trail(services, people):
    with services.ctx.db.reader() as s:
        rows = [tuple(r) for r in s.execute(select(
            AuditEventRow.seq, AuditEventRow.body, AuditEventRow.prev_hash,
            AuditEventRow.hash).order_by(AuditEventRow.seq))]
    assert len(rows) >= 6
    return services, rows


def _connections(services):
    raw = services.ctx.db.raw_connection()
    yield "sqlite3", raw
    raw.close()
    with services.ctx.db.connection() as conn:
        yield "sqlalchemy", conn


@pytest.mark.parametrize("batch", [1, 2, 10_000])
def test_the_stream_holds_every_row_in_order_up_to_the_sequence_asked(trail, batch):
    services, rows = trail
    for kind, conn in _connections(services):
        assert list(stream_rows(conn, batch=batch)) == rows, kind
        assert list(stream_rows(conn, batch=batch, upto=4)) == rows[:4], kind
        assert list(stream_rows(conn, batch=batch, upto=len(rows) + 5)) == rows, kind
        assert list(stream_rows(conn, batch=batch, upto=0)) == [], kind


def test_a_stream_without_a_limit_holds_a_long_trail_whole(services, admin):
    for i in range(130):
        services.ctx.write(lambda s, i=i: services.ctx.trail.append(
            s, user="admin", role="admin", action="settings.change", obj=f"k{i}"))
    for kind, conn in _connections(services):
        rows = list(stream_rows(conn))
        assert len(rows) > 130 and [r[0] for r in rows] == list(range(1, len(rows) + 1)), kind
