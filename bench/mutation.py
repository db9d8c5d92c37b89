"""Mutation testing of the integrity code (audit chain, package checks, security, the
controller's register image) with mutmut, one group of modules at a time against the tests
that exercise it, and the mutation score per module.

Run (from the repository root, after `pip install -e ".[test,mutation]"`):

    python bench/mutation.py run GROUP [--max-children N] [--fresh] [--only PATTERN ...]
                                       [--backends sqlite,postgresql] [--lean] [--unchecked]
    python bench/mutation.py retest GROUP       # re-run the mutants that are not killed
    python bench/mutation.py score [GROUP ...] [--json FILE] [--survivors]
    python bench/mutation.py show GROUP [MUTANT ...]  # diffs, by default of those not killed

With --before (run, retest, score), the group runs without tests/mutation_kills/ (the tests
written to kill the survivors) in its own folder build/mutation/GROUP-before/: the score the
integrity code had before them.

A run that was stopped (Ctrl-C) keeps its results: `run` again goes on with the mutants not
yet checked, `retest` re-runs only those checked and not killed. ``--only`` runs just the
mutants whose names match the patterns (fnmatch, e.g. ``"app.audit.chain.*"``), checked or
not: a group too big for one sitting is done module by module.

GROUP is one of the names in GROUPS below (or `all`). Each group runs in its own scratch
folder build/mutation/GROUP/, so its mutants, its results cache and its test selection are
its own; the shared mutmut options are in pyproject.toml ([tool.mutmut]). mutmut runs the
group's tests once to learn which tests reach which function, then runs each mutant against
only those tests, stopping at the first failure; nothing runs the whole suite per mutant.
Everything runs under `nice -n 10` (the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRATCH = REPO / "build" / "mutation"


@dataclass(frozen=True)
class Group:
    """Modules mutated together and the test files that check them."""

    mutate: tuple[str, ...]
    tests: tuple[str, ...]
    #: Slow tests of the selection that check something else than most of the group's
    #: modules; ``--lean`` leaves them out (pieces of test ids).
    heavy: tuple[str, ...] = ()


#: The audit and security groups list a folder of kill tests, not files: a new file there is
#: picked up as new tests, while a changed list would reset every result of the group.
GROUPS: dict[str, Group] = {
    "audit": Group(
        mutate=("app/audit/*",),
        tests=("tests/test_audit_tamper.py", "tests/audit", "tests/test_audit_clock.py",
               "tests/security/test_audit_key.py", "tests/mutation_kills/audit"),
        # Four workstations writing at once (4.5 s) and the PDF report (3 s): a third of the
        # time of every mutant of the chain, the keys and the verification they pass through.
        heavy=("test_concurrent_workstations_lose_nothing",
               "test_every_event_and_every_page_is_in_the_pdf"),
    ),
    "security": Group(
        mutate=("app/security/*",),
        tests=("tests/security", "tests/test_accounts.py", "tests/test_policy_matrix.py",
               "tests/mutation_kills/security"),
    ),
    "packages": Group(
        mutate=("app/packages/verify.py", "app/packages/signatures.py"),
        tests=("tests/packages", "tests/mutation_kills/test_signatures.py",
               "tests/mutation_kills/test_verify.py"),
    ),
    "image": Group(
        mutate=("app/devices/controller/image.py",),
        tests=("tests/devices/test_flash.py", "tests/devices/test_runtime.py",
               "tests/mutation_kills/test_register_image.py"),
    ),
}

#: How mutmut's exit codes read (mutmut.stats.status_by_exit_code, copied so that `score`
#: needs no mutmut import); anything else is "suspicious".
STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests",
          34: "skipped", 36: "timeout", -24: "timeout", 24: "timeout", 152: "timeout",
          255: "timeout", -11: "segfault", -9: "segfault", 37: "type check", None: "not checked"}
#: Outcomes that count as the tests noticing the mutant.
CAUGHT = {"killed", "timeout", "segfault"}


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


KILLS = "tests/mutation_kills"


def folder(name: str, before: bool = False) -> Path:
    """The group's scratch folder (``-before``: the run without the mutation-kill tests)."""
    return SCRATCH / (f"{name}-before" if before else name)


def prepare(name: str, *, fresh: bool, before: bool = False) -> Path:
    """The group's scratch folder: the sources and tests linked in, the pyproject with the
    group's [tool.mutmut] additions."""
    group = GROUPS[name]
    where = folder(name, before)
    if fresh and where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True, exist_ok=True)
    # mutmut copies the source folder into mutants/ only once; a source file that is not
    # mutated but changed since must be copied again.
    if (where / "mutants" / "app").exists():
        for src in (REPO / "app").rglob("*"):
            dst = where / "mutants" / src.relative_to(REPO)
            if src.is_file() and dst.exists() and src.stat().st_mtime > dst.stat().st_mtime \
                    and not any(src.relative_to(REPO).match(g) for g in group.mutate):
                shutil.copy2(src, dst)
    for link, target in (("app", REPO / "app"), ("tests", REPO / "tests"),
                         ("shared", REPO.parent / "shared")):
        path = where / link
        if not path.is_symlink():
            path.symlink_to(target, target_is_directory=True)
    # The app looks for its bundled resources next to the app package, here mutants/app, and
    # a test runs a bench script found from its own copy in mutants/tests.
    (where / "mutants").mkdir(exist_ok=True)
    for base in (where, where / "mutants"):
        for beside in ("resources", "bench"):
            if not (base / beside).is_symlink():
                (base / beside).symlink_to(REPO / beside, target_is_directory=True)
    tests = [t for t in group.tests if (REPO / t).exists()
             and not (before and t.startswith(KILLS))]
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    header = "[tool.mutmut]\n"
    if header not in text:
        raise SystemExit("pyproject.toml has no [tool.mutmut] section")
    added = (f"only_mutate = {_toml_list(list(group.mutate))}\n"
             f"pytest_add_cli_args_test_selection = {_toml_list(tests)}\n")
    (where / "pyproject.toml").write_text(text.replace(header, header + added, 1),
                                          encoding="utf-8")
    return where


def _mutmut() -> str:
    exe = Path(sys.executable).with_name("mutmut")
    if not exe.exists():
        raise SystemExit(f"mutmut is not installed next to {sys.executable}: "
                         "pip install -e \".[test,mutation]\"")
    return str(exe)


def _run_mutmut(where: Path, args: list[str], backends: str = "sqlite",
                deselect: tuple[str, ...] = ()) -> int:
    # Every mutant is a new pytest session: on the PostgreSQL backend each would start its
    # own throwaway cluster unless PLANTML_TEST_PG_URL names a running one. Almost all the
    # code mutated here does not depend on the backend (that is app/store's, tested by the
    # suite on both), so mutants run on SQLite; the few PostgreSQL-only functions (the
    # server-side chain scan) are run with --backends sqlite,postgresql.
    if "postgresql" in backends and not os.environ.get("PLANTML_TEST_PG_URL"):
        raise SystemExit("--backends with postgresql needs a running server: "
                         'eval "$(bash installer/ci-postgres.sh --no-fsync)" first')
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PLANTML_TEST_BACKENDS=backends,
               PLANTML_TEST_DESELECT=",".join(deselect))
    cmd = ["nice", "-n", "10", _mutmut(), *args]
    print("+", " ".join(cmd), f"(in {where})", flush=True)
    return subprocess.call(cmd, cwd=where, env=env)


def results(name: str, before: bool = False) -> dict[str, dict[str, str]]:
    """``{module path: {mutant name: status}}`` of the group's last run."""
    out: dict[str, dict[str, str]] = {}
    root = folder(name, before) / "mutants"
    for meta in sorted(root.rglob("*.py.meta")):
        module = str(meta.relative_to(root))[: -len(".meta")]
        codes = json.loads(meta.read_text(encoding="utf-8"))["exit_code_by_key"]
        out[module] = {key: STATUS.get(code, "suspicious") for key, code in codes.items()}
    return out


def cmd_run(args: argparse.Namespace) -> int:
    rc = 0
    for name in _names(args.group):
        where = prepare(name, fresh=args.fresh, before=args.before)
        only = args.only
        if args.unchecked:
            # mutmut re-runs every mutant a pattern names; a stopped run goes on with the
            # names of those matching and not yet checked instead.
            only = [key for module in results(name, args.before).values()
                    for key, status in module.items() if status == "not checked"
                    and (not args.only or any(fnmatch(key, pat) for pat in args.only))]
            if not only:
                print(f"{name}: every mutant matching {args.only or '*'} is checked")
                continue
        rc |= _run_mutmut(where, ["run", "--max-children", str(args.max_children),
                                  *only], args.backends,
                          GROUPS[name].heavy if args.lean else ())
    return rc


def cmd_retest(args: argparse.Namespace) -> int:
    rc = 0
    for name in _names(args.group):
        where = prepare(name, fresh=False, before=args.before)
        todo = [key for module in results(name, args.before).values()
                for key, status in module.items()
                if status not in CAUGHT and status != "not checked"]
        if not todo:
            print(f"{name}: nothing left to retest")
            continue
        rc |= _run_mutmut(where, ["run", "--max-children", str(args.max_children), *todo],
                          args.backends)
    return rc


def cmd_show(args: argparse.Namespace) -> int:
    where = prepare(args.group, fresh=False)
    names = args.mutants or [key for module in results(args.group).values()
                             for key, status in module.items()
                             if status not in CAUGHT and status != "skipped"]
    for key in names:
        subprocess.call([_mutmut(), "show", key], cwd=where)
    return 0


def cmd_score(args: argparse.Namespace) -> int:
    table = []
    for name in _names(args.group or ["all"]):
        for module, statuses in results(name, args.before).items():
            counted = [s for s in statuses.values() if s != "skipped"]
            checked = [s for s in counted if s != "not checked"]
            caught = sum(s in CAUGHT for s in counted)
            left = sorted(k for k, s in statuses.items()
                          if s not in CAUGHT and s not in ("skipped", "not checked"))
            # The score is of the mutants checked; it is the module's own once checked
            # equals mutants (a stopped run leaves some unchecked).
            table.append({"group": name, "module": module, "mutants": len(counted),
                          "checked": len(checked), "killed": caught,
                          "score": round(100.0 * caught / len(checked), 1) if checked else None,
                          "not_killed": {k: statuses[k] for k in left}})
    width = max((len(r["module"]) for r in table), default=10)
    print(f"{'module':<{width}}  mutants  checked  killed  score")
    for r in table:
        score = "-" if r["score"] is None else f"{r['score']:.1f} %"
        print(f"{r['module']:<{width}}  {r['mutants']:>7}  {r['checked']:>7}  {r['killed']:>6}"
              f"  {score:>7}")
        if args.survivors:
            for key, status in r["not_killed"].items():
                print(f"    {status:<12} {key}")
    total = sum(r["mutants"] for r in table)
    checked_all = sum(r["checked"] for r in table)
    killed = sum(r["killed"] for r in table)
    if checked_all:
        print(f"{'all':<{width}}  {total:>7}  {checked_all:>7}  {killed:>6}  "
              f"{100.0 * killed / checked_all:.1f} %")
    if args.json:
        Path(args.json).write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    return 0


def _names(given: list[str]) -> list[str]:
    if not given or "all" in given:
        return list(GROUPS)
    unknown = [g for g in given if g not in GROUPS]
    if unknown:
        raise SystemExit(f"unknown group(s) {unknown}; known: {', '.join(GROUPS)}")
    return given


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    for cmd in ("run", "retest"):
        p = sub.add_parser(cmd)
        p.add_argument("group", nargs="+")
        # Two cores, shared: one mutant at a time unless told otherwise.
        p.add_argument("--max-children", type=int, default=1)
        p.add_argument("--before", action="store_true",
                       help=f"without {KILLS}/ (the score before those tests)")
        p.add_argument("--backends", default="sqlite",
                       help="registry backends the tests run on (PLANTML_TEST_BACKENDS); "
                            "with postgresql, PLANTML_TEST_PG_URL must name a running server")
        if cmd == "run":
            p.add_argument("--fresh", action="store_true",
                           help="drop the group's earlier mutants and results first")
            p.add_argument("--only", nargs="+", default=[], metavar="PATTERN",
                           help="only the mutants whose names match (fnmatch)")
            # Not for retest, which settles what a lean run left with every test.
            p.add_argument("--lean", action="store_true",
                           help="leave out the group's heavy tests (a mutant only they would "
                                "kill shows as a survivor, for retest to settle)")
            p.add_argument("--unchecked", action="store_true",
                           help="only mutants not checked yet (of those --only names)")
    p = sub.add_parser("show", help="the diff of each mutant named, or of every one not killed")
    p.add_argument("group")
    p.add_argument("mutants", nargs="*")
    p = sub.add_parser("score")
    p.add_argument("group", nargs="*")
    p.add_argument("--json", help="also write the table to this file")
    p.add_argument("--survivors", action="store_true", help="list the mutants not killed")
    p.add_argument("--before", action="store_true", help=f"the run without {KILLS}/")
    args = parser.parse_args()
    commands = {"run": cmd_run, "retest": cmd_retest, "show": cmd_show, "score": cmd_score}
    return commands[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
