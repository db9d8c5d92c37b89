"""Fleet roll-out benchmark (issue 11.3, must show): 50 reference controllers on loopback
(in child processes, 10 per process, as separate boxes would be), then

1. 50 single flashes of v1 one after another through ControllerService.flash;
2. a roll-out of v2 to the group of 50 (canary, batches, TCP in parallel), timed;
3. a roll-out of v3 with one injected failure (one controller drops off the network in the
   middle of the roll-out): it halts, and every controller it did not change still runs v2.

Run: python bench/bench_fleet.py [--controllers 50] [--batch 10] [--parallel 8]
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HW = "EDGE-01"
PER_CHILD = 10


# -- the child: K controllers on 127.0.0.1 ---------------------------------------------
def serve_child(count: int, state: Path, trust: Path) -> None:
    """Start ``count`` controllers, print their targets as one JSON line, then obey
    ``drop N`` / ``restore N`` lines on stdin (cut or restore controller N's link) until
    stdin closes."""
    from app.services.controller_runtime import start_controller

    with ExitStack() as stack:
        running = [stack.enter_context(start_controller(
            state_dir=state / f"edge{i}", hardware_id=HW, trust=trust, tcp="127.0.0.1:0",
            commit_deadline_s=60)) for i in range(count)]
        print(json.dumps([r.target for r in running]), flush=True)
        for line in sys.stdin:
            cmd, _, arg = line.strip().partition(" ")
            faults = running[int(arg)].server.faults if arg else None
            if cmd == "drop" and faults is not None:
                faults.down_until = time.monotonic() + 3600
            elif cmd == "restore" and faults is not None:
                faults.clear()
            print("ok", flush=True)


class Children:
    """The child processes and the targets each serves."""

    def __init__(self, total: int, root: Path, trust: Path) -> None:
        self.procs: list[subprocess.Popen[str]] = []
        self.targets: list[str] = []
        self.owner: list[tuple[int, int]] = []
        for c in range(0, total, PER_CHILD):
            n = min(PER_CHILD, total - c)
            proc = subprocess.Popen(
                [sys.executable, str(Path(__file__).resolve()), "--serve", str(n),
                 "--state", str(root / f"child{c}"), "--trust", str(trust)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
            self.procs.append(proc)
        for k, proc in enumerate(self.procs):
            assert proc.stdout is not None
            targets = json.loads(proc.stdout.readline())
            self.owner += [(k, i) for i in range(len(targets))]
            self.targets += targets

    def tell(self, index: int, cmd: str) -> None:
        k, i = self.owner[index]
        proc = self.procs[k]
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(f"{cmd} {i}\n")
        proc.stdin.flush()
        assert proc.stdout.readline().strip() == "ok"

    def close(self) -> None:
        for proc in self.procs:
            if proc.stdin is not None:
                proc.stdin.close()
        for proc in self.procs:
            proc.wait(60)


# -- the workstation ------------------------------------------------------------------
def trained_versions(sv, people, work: Path, count: int) -> list[str]:
    """``count`` approved versions of pump-7 (synthetic vibration) for EDGE-01."""
    from app.data.synthetic import STATES, vibration
    from app.services.options import binary_options
    from app.services.recipes import make_recipe

    eng, apr = people["engineer"], people["approver"]
    paths = []
    for k, state in enumerate(STATES):
        path = work / f"{state}.npz"
        np.savez(path, acc=vibration(state, 16_384, seed=k))
        paths.append(path)
    ds = sv.data_in.import_files(eng, paths=paths, name="pump", binary=binary_options(
        keys=["acc"], sample_rate=12_000.0)).dataset
    for i, state in enumerate(STATES):
        sv.datasets.label(eng, dataset=ds.dataset_id, recording=i, label=state)
    refs = []
    for seed in range(count):
        v = sv.training.train(eng, dataset=ds.dataset_id, line="pump-7",
                              recipe=make_recipe(seed=seed), window=1024, hop=1024).version
        sv.approvals.propose(eng, ref=v.ref, password="engineer-password-1",
                             hardware_ids=[HW], reason="bench")
        sv.approvals.decide(apr, ref=v.ref, password="approver-password-1",
                            meaning="approved", reason="bench")
        refs.append(v.ref)
    return refs


def models(sv, who, targets: list[str]) -> list[str | None]:
    out = []
    for t in targets:
        _, st = sv.controllers.status(who, target=t)
        out.append(f"{st.active.name}:v{st.active.version}" if st.active else None)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--controllers", type=int, default=50)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--fail-at", type=int, default=23,
                    help="the controller (by position in the roll-out) that drops off")
    ap.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--state", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--trust", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("pymodbus").setLevel(logging.ERROR)
    if args.serve:
        serve_child(args.serve, args.state, args.trust)
        return 0

    from app.core.roles import Role
    from app.security.passwords import HashParams
    from app.services import open_services

    n = args.controllers
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        root = Path(tmp)
        sv = open_services(root / "ws", create=True, checkpoint_interval=100,
                           hash_params=HashParams(time_cost=1, memory_cost=1024,
                                                  parallelism=1))
        admin = sv.auth.bootstrap_admin(username="admin", password="admin-password-1")
        people = {"admin": admin}
        for role in (Role.ENGINEER, Role.APPROVER, Role.OPERATOR):
            sv.users.add(admin, username=role.value, password=f"{role.value}-password-1",
                         roles=[role.value])
            people[role.value] = sv.auth.login(username=role.value,
                                               password=f"{role.value}-password-1")
        t0 = time.perf_counter()
        v1, v2, v3 = trained_versions(sv, people, root, 3)
        print(f"trained and approved {v1}, {v2}, {v3} in {time.perf_counter() - t0:.1f} s")
        trust = root / "trust.json"
        sv.keys.export(admin, path=trust)
        opr = people["operator"]
        t0 = time.perf_counter()
        kids = Children(n, root, trust)
        try:
            print(f"{n} controllers up in {len(kids.procs)} child processes in "
                  f"{time.perf_counter() - t0:.1f} s")
            names = [f"ctl-{i:02d}" for i in range(n)]
            for name, target in zip(names, kids.targets, strict=True):
                sv.fleet.add(opr, name=name, endpoint=target, hardware_id=HW, group="plant")

            t0 = time.perf_counter()
            for target in kids.targets:
                assert sv.controllers.flash(opr, ref=v1, target=target).ok
            single = time.perf_counter() - t0
            print(f"{n} single flashes of {v1} one after another: {single:.1f} s "
                  f"({single / n:.2f} s each)")

            t0 = time.perf_counter()
            ro = sv.fleet.start(opr, ref=v2, group="plant", batch_size=args.batch,
                                parallel=args.parallel, observe_s=0)
            fleet_s = time.perf_counter() - t0
            assert ro.state == "done", ro.summary()
            assert models(sv, opr, kids.targets) == [v2] * n
            print(f"roll-out of {v2} to {n} (canary + batches of {args.batch}, "
                  f"{args.parallel} TCP flashes at once, one health look per controller): "
                  f"{fleet_s:.1f} s, {single / fleet_s:.2f}x faster than one after another")

            # The failure run: the controller at --fail-at drops off while batch 1 flashes.
            ro = sv.fleet.create(opr, ref=v3, group="plant", batch_size=args.batch,
                                 parallel=args.parallel, observe_s=0)
            victim = ro.steps[args.fail_at]
            index = kids.targets.index(victim.endpoint)
            kids.tell(index, "drop")
            t0 = time.perf_counter()
            ro = sv.fleet.run(opr, rollout_id=ro.id)
            halt_s = time.perf_counter() - t0
            kids.tell(index, "restore")
            now = dict(zip(kids.targets, models(sv, opr, kids.targets), strict=True))
            changed = set(ro.changed)
            on_v3 = {s.controller for s in ro.steps if now[s.endpoint] == v3}
            kept = [s.controller for s in ro.steps if s.controller not in changed
                    and now[s.endpoint] == v2]
            print(f"roll-out of {v3} with {victim.controller} cut off: {ro.state} after "
                  f"{halt_s:.1f} s ({ro.reason})")
            print(f"  changed (run {v3}): {len(changed)}; the devices agree: "
                  f"{on_v3 == changed}")
            print(f"  not changed: {n - len(changed)}, of which still on {v2}: {len(kept)}; "
                  f"never started: {len(ro.untouched)}")
            assert ro.state == "halted" and on_v3 == changed and len(kept) == n - len(changed)
            ok = sv.audit.verify(admin).ok
            print(f"audit trail verifies: {ok}")
            return 0 if ok else 1
        finally:
            kids.close()
            sv.close()


if __name__ == "__main__":
    raise SystemExit(main())
