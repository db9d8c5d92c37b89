"""Several workstations writing one audit chain at once (issue 11): N processes, each its own
workspace and audit key on one shared registry (a PostgreSQL server or one SQLite file), each
doing M audited actions (a setting changed, with its audit event); then count the actions
lost, the sequence numbers doubled or missing, and verify the chain and every checkpoint.

    python bench/bench_shared_registry.py --pg-url postgresql+psycopg://USER@HOST:PORT/DB
    python bench/bench_shared_registry.py --sqlite            # one SQLite file
    python bench/bench_shared_registry.py                     # both (a throwaway cluster)

The PostgreSQL database must be empty (or not yet hold a PlantML schema).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from app.core.errors import PlantMLError
from app.security.passwords import HashParams
from app.services import open_services

ROOT = Path(__file__).resolve().parents[1]

FAST = HashParams(time_cost=1, memory_cost=1024, parallelism=1)
ADMIN, PASSWORD = "admin", "Bench-Shared-Registry-Passw0rd"
ACTION_KEY = "security.idle_lock_minutes"
INTERVAL = 10


def worker(home: Path, url: str, name: str, actions: int) -> int:
    """One workstation: join the registry, say ready, wait for go, act, report as JSON."""
    acked: list[str] = []
    failed: list[str] = []
    with open_services(home, create=True, db_url=url, workstation=name) as sv:
        me = sv.auth.login(username=ADMIN, password=PASSWORD)
        print("ready", flush=True)
        if sys.stdin.readline().strip() != "go":
            return 1
        start = time.time()
        for j in range(actions):
            marker = f"{name}#{j}"
            try:
                sv.settings.set(me, key=ACTION_KEY, value=1 + j % 600, reason=marker)
            except PlantMLError as exc:
                failed.append(f"{marker}: {exc}")
                continue
            acked.append(marker)  # acknowledged: its audit row committed
        # Which workstation writes each INTERVAL-th event depends on the interleaving; a
        # closing checkpoint, as an export would sign, makes every key sign at least once.
        sv.ctx.write(sv.ctx.trail.checkpoint)
        end = time.time()
    print(json.dumps({"name": name, "acked": acked, "failed": failed, "start": start,
                      "end": end}), flush=True)
    return 0


def run(url: str, folder: Path, workers: int = 4, actions: int = 500) -> dict:
    """Create the registry, run ``workers`` workstation processes at once, check the trail;
    returns the figures."""
    blobs = folder / "shared-blobs"
    with open_services(folder / "setup", create=True, db_url=url, blob_folder=blobs,
                       hash_params=FAST, checkpoint_interval=INTERVAL,
                       workstation="setup") as sv:
        sv.auth.bootstrap_admin(username=ADMIN, password=PASSWORD)
    procs = [subprocess.Popen(
        [sys.executable, str(Path(__file__).resolve()), "--worker", str(folder / f"ws-{i}"),
         "--url", url, "--name", f"ws-{i}", "--actions", str(actions)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=str(ROOT))
        for i in range(workers)]
    results = []
    try:
        for p in procs:
            assert p.stdout is not None
            line = p.stdout.readline().strip()
            if line != "ready":
                raise RuntimeError(f"a workstation process did not start ({line!r})")
        for p in procs:
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        for p in procs:
            out, _ = p.communicate(timeout=3600)
            if p.returncode != 0:
                raise RuntimeError(f"a workstation process failed (exit {p.returncode})")
            results.append(json.loads(out.strip().splitlines()[-1]))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return _check(url, folder, results, workers * actions)


def _check(url: str, folder: Path, results: list[dict], attempted: int) -> dict:
    """Count what was lost or doubled and verify the chain with every checkpoint."""
    from sqlalchemy import text

    acked = [m for r in results for m in r["acked"]]
    with open_services(folder / "setup") as sv:
        admin = sv.auth.login(username=ADMIN, password=PASSWORD)
        with sv.db.engine.connect() as conn:
            count, distinct, top = conn.execute(text(
                "SELECT count(*), count(DISTINCT seq), coalesce(max(seq), 0) "
                "FROM audit_events")).one()
            reasons = [r for (r,) in conn.execute(text(
                "SELECT body FROM audit_events WHERE action = 'settings.change'"))]
            cps = conn.execute(text("SELECT count(*), count(DISTINCT key_id) "
                                    "FROM audit_checkpoints")).one()
        seen: dict[str, int] = {}
        for body in reasons:
            marker = json.loads(body)["reason"]
            seen[marker] = seen.get(marker, 0) + 1
        report = sv.audit.verify(admin)
    span = max(r["end"] for r in results) - min(r["start"] for r in results)
    return {
        "backend": "postgresql" if url.startswith("postgresql") else "sqlite",
        "workstations": len(results), "attempted": attempted, "acknowledged": len(acked),
        "failed": sum(len(r["failed"]) for r in results),
        "failures": [f for r in results for f in r["failed"]][:5],
        "lost": sum(1 for m in acked if m not in seen),
        "doubled_actions": sum(1 for n in seen.values() if n > 1),
        "events": int(count), "duplicate_seq": int(count) - int(distinct),
        "missing_seq": int(top) - int(distinct),
        "checkpoints": int(cps[0]), "checkpoint_keys": int(cps[1]),
        "verify_ok": report.ok, "verify": report.summary(),
        "seconds": round(span, 2), "actions_per_s": round(len(acked) / span, 1),
    }


def _print(fig: dict) -> None:
    print(f"{fig['backend']}: {fig['workstations']} workstations x "
          f"{fig['attempted'] // fig['workstations']} actions: {fig['acknowledged']} "
          f"acknowledged, {fig['failed']} refused, {fig['lost']} lost, "
          f"{fig['duplicate_seq']} duplicate and {fig['missing_seq']} missing sequence numbers; "
          f"{fig['checkpoints']} checkpoints by {fig['checkpoint_keys']} keys; verify "
          f"{'ok' if fig['verify_ok'] else 'FAILED'}; {fig['actions_per_s']} actions/s "
          f"({fig['seconds']} s)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg-url")
    ap.add_argument("--sqlite", action="store_true")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--actions", type=int, default=500)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--name", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(Path(args.worker), args.url, args.name, args.actions)
    figures = []
    with tempfile.TemporaryDirectory(prefix="plantml-bench-") as tmp:
        if args.sqlite or not args.pg_url:
            folder = Path(tmp) / "sqlite"
            url = f"sqlite:///{(folder / 'registry.db').as_posix()}"
            folder.mkdir()
            figures.append(run(url, folder, args.workers, args.actions))
        if args.pg_url or not args.sqlite:
            cluster = None
            url = args.pg_url
            if url is None:
                sys.path.insert(0, str(ROOT / "installer"))
                import pg_cluster

                cluster = pg_cluster.start()
                url = cluster.url
            try:
                folder = Path(tmp) / "postgresql"
                folder.mkdir()
                figures.append(run(url, folder, args.workers, args.actions))
            finally:
                if cluster is not None:
                    cluster.stop()
    for fig in figures:
        _print(fig)
    bad = [f for f in figures if f["lost"] or f["duplicate_seq"] or f["missing_seq"]
           or not f["verify_ok"] or f["doubled_actions"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
