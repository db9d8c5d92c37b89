"""Audit benchmarks: append rate (one event per transaction, synchronous=FULL) and the cost of
verifying 1 million events as a ratio to hashing the same bytes once with hashlib.

Run: python bench/bench_audit.py [--events 1000000] [--appends 300]
"""

from __future__ import annotations

import argparse
import hashlib
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from app.audit.chain import GENESIS, chain_hash, event_body
from app.audit.keys import AuditKey
from app.audit.verify import verify_database
from app.security.passwords import HashParams
from app.services import open_services


def bench_append(tmp: Path, n: int) -> tuple[float, float]:
    """Events per second through the service layer, and bare SQLite inserts per second."""
    with open_services(tmp / "append", create=True,
                       hash_params=HashParams(1, 1024, 1)) as sv:
        admin = sv.auth.bootstrap_admin(username="admin", password="bench-password")
        t0 = time.perf_counter()
        for i in range(n):
            sv.settings.set(admin, key="security.idle_lock_minutes", value=i % 60 + 1)
        service_rate = n / (time.perf_counter() - t0)
    conn = sqlite3.connect(tmp / "bare.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE t (seq INTEGER PRIMARY KEY, body TEXT)")
    t0 = time.perf_counter()
    for i in range(n):
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO t VALUES (?, ?)", (i, "x" * 300))
        conn.execute("COMMIT")
    bare_rate = n / (time.perf_counter() - t0)
    conn.close()
    return service_rate, bare_rate


def build_trail(db_path: Path, n: int) -> list[bytes]:
    """A workspace-shaped audit table with ``n`` chained events; returns the hashed bytes."""
    with open_services(db_path.parent, create=True, hash_params=HashParams(1, 1024, 1)):
        pass
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_events_no_delete")
    conn.execute("DELETE FROM audit_events")
    conn.execute("BEGIN")
    prev, start = GENESIS, datetime(2026, 1, 1, tzinfo=UTC)
    hashed: list[bytes] = []
    batch = []
    for seq in range(1, n + 1):
        body = event_body(ts=start + timedelta(seconds=seq), user=f"user{seq % 7}",
                          role="engineer", workstation="CR-WS-01", action="settings.change",
                          obj="setting:security.idle_lock_minutes", old=seq - 1, new=seq,
                          reason="benchmark event", result="ok")
        digest = chain_hash(seq, prev, body)
        hashed.append(f"{seq}\n{prev}\n{body}".encode())
        batch.append((seq, body, prev, digest))
        prev = digest
        if len(batch) == 50_000:
            conn.executemany("INSERT INTO audit_events (seq, body, prev_hash, hash) "
                             "VALUES (?, ?, ?, ?)", batch)
            batch.clear()
    conn.executemany("INSERT INTO audit_events (seq, body, prev_hash, hash) VALUES (?,?,?,?)",
                     batch)
    conn.execute("COMMIT")
    conn.close()
    return hashed


def time_verify(db_path: Path, workers: int) -> float:
    """Seconds to verify the trail in ``db_path`` as ``plantml audit verify`` does."""
    key = AuditKey.load_or_create(db_path.parent / "keys")
    t0 = time.perf_counter()
    report = verify_database(db_path, [], key.public, workers=workers)
    elapsed = time.perf_counter() - t0
    assert report.ok and report.last_seq > 0, report.summary()
    return elapsed


def time_hash_only(hashed: list[bytes]) -> float:
    sha = hashlib.sha256
    t0 = time.perf_counter()
    for data in hashed:
        sha(data).hexdigest()
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--appends", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        service_rate, bare_rate = bench_append(tmp, args.appends)
        print(f"append, one event per transaction (synchronous=FULL): {service_rate:8.0f} "
              f"events/s through the services; bare SQLite insert+commit {bare_rate:8.0f}/s "
              f"(ratio {service_rate / bare_rate:.2f})")
        db = tmp / "verify" / "plantml.db"
        hashed = build_trail(db, args.events)
        size = sum(len(b) for b in hashed)
        par_t, ser_t, hash_t = [], [], []
        for _ in range(args.rounds):
            hash_t.append(time_hash_only(hashed))
            par_t.append(time_verify(db, workers=2))
            ser_t.append(time_verify(db, workers=1))
        h = statistics.median(hash_t)
        p, s = statistics.median(par_t), statistics.median(ser_t)
        print(f"verify {args.events} events ({size / 1e6:.0f} MB hashed); baseline: hashing the "
              f"same bytes once with hashlib, one event at a time: {h:.2f} s")
        print(f"  plantml verify (2 processes): {p:.2f} s, ratio {p / h:.2f} (target <= 3)")
        print(f"  one process:                  {s:.2f} s, ratio {s / h:.2f}")


if __name__ == "__main__":
    main()
