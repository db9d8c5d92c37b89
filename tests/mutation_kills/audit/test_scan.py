"""The server-side chain scan (PostgreSQL's path, here through SQLAlchemy on the SQLite file)
finds what the file scan finds: the same heads and end on an intact trail, and the same first
bad sequence and reason on a changed one."""

from __future__ import annotations

from sqlalchemy import text

from app.audit.scan import scan_database, scan_server


def _both(services, want: set[int]):
    with services.ctx.db.connection() as conn:
        server = scan_server(conn, want)
    path = services.ctx.db.path
    assert path is not None
    return server, scan_database(path, want)


def test_the_server_scan_of_an_intact_trail_matches_the_file_scan(services, people):
    server, file = _both(services, {2, 4})
    assert server.bad_seq is None and server.problem == ""
    assert server.last_seq == file.last_seq > 4
    assert server.last_hash == file.last_hash and set(server.heads) >= {2, 4}
    assert (server.heads[2], server.heads[4]) == (file.heads[2], file.heads[4])


def test_the_server_scan_names_the_first_changed_event(services, people):
    with services.ctx.db.engine.begin() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_events_no_update"))
        conn.execute(text("UPDATE audit_events SET body = replace(body, 'admin', 'eve') "
                          "WHERE seq = 3"))
    server, file = _both(services, set())
    assert server.bad_seq == file.bad_seq == 3
    assert server.problem == file.problem != ""
    assert server.last_seq == 2
