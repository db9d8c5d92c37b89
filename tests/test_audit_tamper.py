"""T04, T05: every change to the stored trail is found and named by sequence number."""

from __future__ import annotations

import sqlite3

import pytest

from app.audit.chain import chain_hash
from app.core.errors import PermissionDenied


def _db(services) -> sqlite3.Connection:
    services.db.dispose()
    conn = sqlite3.connect(services.paths.db, isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS audit_events_no_update")
    conn.execute("DROP TRIGGER IF EXISTS audit_events_no_delete")
    conn.execute("DROP TRIGGER IF EXISTS audit_checkpoints_no_delete")
    return conn


def _fill(services, admin, n: int) -> None:
    for i in range(n):
        services.settings.set(admin, key="security.idle_lock_minutes", value=10 + i,
                              reason=f"change {i}")


@pytest.fixture
def trail(services, people):
    _fill(services, people["admin"], 20)
    return people["auditor"]


def test_intact_trail_verifies(services, trail):
    report = services.audit.verify(trail)
    assert report.ok, report.summary()
    assert report.last_seq >= 25
    assert report.checkpoint_seq is not None and report.checkpoint_seq % 5 == 0


def test_database_refuses_updates_and_deletes_of_audit_rows(services, trail):
    conn = sqlite3.connect(services.paths.db)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_events SET body = body WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit_events WHERE seq = 1")
    conn.close()


@pytest.mark.parametrize("column", ["body", "prev_hash", "hash"])
def test_t04_one_changed_byte_in_any_column_names_the_sequence(services, trail, column):
    conn = _db(services)
    for seq in (1, 7, 18):
        value = conn.execute(f"SELECT {column} FROM audit_events WHERE seq = ?",
                             (seq,)).fetchone()[0]
        # Inside a JSON string value, so the body stays valid JSON and SQLite accepts it.
        pos = value.find('"action":"') + 10 if column == "body" else len(value) // 2
        flipped = value[:pos] + ("1" if value[pos] != "1" else "2") + value[pos + 1:]
        conn.execute(f"UPDATE audit_events SET {column} = ? WHERE seq = ?", (flipped, seq))
        report = services.audit.verify(trail)
        assert not report.ok
        assert report.first_bad_seq == seq, report.summary()
        conn.execute(f"UPDATE audit_events SET {column} = ? WHERE seq = ?", (value, seq))
    conn.close()


def test_t04_byte_flipped_in_the_database_file_itself(services, trail):
    services.db.dispose()
    path = services.paths.db
    # Fold the WAL into the main file so the rows are where we edit.
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    marker = b'"reason":"change 7"'
    at = data.find(marker)
    assert at > 0
    data[at + len(marker) - 2] = ord("8")
    path.write_bytes(bytes(data))
    report = services.audit.verify(trail)
    assert not report.ok
    row = sqlite3.connect(path).execute(
        "SELECT seq FROM audit_events WHERE body LIKE '%\"reason\":\"change 8\"%' "
        "ORDER BY seq").fetchall()
    assert report.first_bad_seq == row[0][0]


def test_t05_deleted_row_is_named(services, trail):
    conn = _db(services)
    conn.execute("DELETE FROM audit_events WHERE seq = 9")
    report = services.audit.verify(trail)
    assert (report.ok, report.first_bad_seq) == (False, 9)
    assert "missing" in report.problem


def test_t05_inserted_row_is_detected(services, trail):
    conn = _db(services)
    rows = conn.execute("SELECT seq, body, prev_hash, hash FROM audit_events ORDER BY seq "
                        "DESC").fetchall()
    # Shift the rows after 12 up by one and insert a forged event at 12 with a correct link.
    conn.execute("UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 12")
    conn.execute("UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1000")
    prev = [r for r in rows if r[0] == 11][0][3]
    body = [r for r in rows if r[0] == 11][0][1].replace("change", "forged")
    conn.execute("INSERT INTO audit_events (seq, body, prev_hash, hash) VALUES (12, ?, ?, ?)",
                 (body, prev, chain_hash(12, prev, body)))
    report = services.audit.verify(trail)
    assert not report.ok and report.first_bad_seq == 13


def test_t05_reordered_rows_are_detected(services, trail):
    conn = _db(services)
    a = conn.execute("SELECT body, prev_hash, hash FROM audit_events WHERE seq = 14").fetchone()
    b = conn.execute("SELECT body, prev_hash, hash FROM audit_events WHERE seq = 15").fetchone()
    conn.execute("UPDATE audit_events SET body=?, prev_hash=?, hash=? WHERE seq = 14", b)
    conn.execute("UPDATE audit_events SET body=?, prev_hash=?, hash=? WHERE seq = 15", a)
    report = services.audit.verify(trail)
    assert not report.ok and report.first_bad_seq == 14


def test_t05_cut_tail_is_detected_against_the_checkpoint(services, trail):
    last_cp = services.audit.verify(trail).checkpoint_seq
    conn = _db(services)
    conn.execute("DELETE FROM audit_events WHERE seq >= ?", (last_cp - 2,))
    report = services.audit.verify(trail)
    assert not report.ok
    assert report.first_bad_seq == last_cp - 2
    assert "tail was cut" in report.problem


def test_t05_cut_tail_and_checkpoints_is_caught_by_the_copy_outside_the_database(
        services, trail):
    last_cp = services.audit.verify(trail).checkpoint_seq
    conn = _db(services)
    conn.execute("DELETE FROM audit_events WHERE seq > 3")
    conn.execute("DELETE FROM audit_checkpoints")
    report = services.audit.verify(trail)
    assert not report.ok and "tail was cut" in report.problem
    assert last_cp > 3


def test_t05_tail_after_last_checkpoint_is_bounded_and_reported(services, trail):
    report = services.audit.verify(trail)
    assert report.ok
    assert 0 <= report.unsigned_tail < 5
    assert report.unsigned_tail == report.last_seq - report.checkpoint_seq
    if report.unsigned_tail:
        assert "not yet by a signature" in report.summary()


def test_t05_whole_chain_recomputed_without_the_key_is_detected(services, trail):
    conn = _db(services)
    rows = conn.execute("SELECT seq, body FROM audit_events ORDER BY seq").fetchall()
    prev = "0" * 64
    for seq, original in rows:
        body = original.replace('"result":"ok"', '"result":"refused"') if seq == 8 else original
        digest = chain_hash(seq, prev, body)
        conn.execute("UPDATE audit_events SET body=?, prev_hash=?, hash=? WHERE seq=?",
                     (body, prev, digest, seq))
        prev = digest
    signed = [seq for (seq,) in conn.execute("SELECT seq FROM audit_checkpoints")]
    report = services.audit.verify(trail)
    assert not report.ok
    # The first event not covered by a still-valid checkpoint (the seals of the accounts
    # made at the start add checkpoints before the changed event 8).
    assert report.first_bad_seq == max(seq for seq in signed if seq < 8) + 1
    assert report.first_bad_seq <= 8
    assert "recomputed" in report.problem


def test_t05_forged_checkpoint_signature_is_detected(services, trail):
    conn = _db(services)
    conn.execute("DROP TRIGGER IF EXISTS audit_checkpoints_no_update")
    conn.execute("UPDATE audit_checkpoints SET head_hash = ? WHERE seq = 10", ("f" * 64,))
    report = services.audit.verify(trail)
    assert not report.ok and report.first_bad_seq == 10
    assert "not signed" in report.problem


def test_verify_needs_the_auditor_or_admin_role(services, people):
    with pytest.raises(PermissionDenied):
        services.audit.verify(people["engineer"])
    assert services.audit.verify(people["admin"]).ok


@pytest.mark.parametrize("victim", [2, 13, 14, 15, 26])
def test_parallel_scan_names_the_same_first_bad_sequence(services, trail, monkeypatch, victim):
    from app.audit import scan

    monkeypatch.setattr(scan, "PARALLEL_THRESHOLD", 1)
    top = services.audit.verify(trail, processes=2).last_seq
    assert top >= 27
    assert services.audit.verify(trail, processes=2).ok
    conn = _db(services)
    conn.execute("DELETE FROM audit_events WHERE seq = ?", (victim,))
    report = services.audit.verify(trail, processes=2)
    assert (report.ok, report.first_bad_seq) == (False, victim), report.summary()


def test_t05_both_copies_of_the_checkpoints_deleted_is_detected(services, trail):
    """Every checkpoint row and the copy outside the database deleted, nothing else: the
    checkpoints that must be there are missing."""
    conn = _db(services)
    conn.execute("DELETE FROM audit_checkpoints")
    conn.close()
    services.ctx.trail.latest_file.unlink()
    report = services.audit.verify(trail)
    assert not report.ok, report.summary()
    assert "checkpoints were removed" in report.problem
    assert report.first_bad_seq is not None and report.first_bad_seq <= 5


def test_t05_deleted_checkpoint_in_the_middle_is_detected(services, trail):
    conn = _db(services)
    conn.execute("DELETE FROM audit_checkpoints WHERE seq = 10")
    conn.close()
    report = services.audit.verify(trail)
    assert (report.ok, report.first_bad_seq) == (False, 10), report.summary()
    assert "checkpoints were removed" in report.problem
