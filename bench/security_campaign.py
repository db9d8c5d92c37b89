"""The security campaign of issue 15 as a table: for each attack, the test cases that try it
(each case is one hostile input or action the test expects to be refused) and how many were
refused, from one pytest run of the tests written for it.

    python bench/security_campaign.py [--markdown]

Every case runs against real components (a SQLite or PostgreSQL registry, the reference
controller over pymodbus and mbpoll, real packages and exports); a case that passes is an
attack that was refused as the test demands.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: Attack (issue 15 item) -> the test node prefixes that try it.
ATTACKS: dict[str, tuple[str, ...]] = {
    "15.1 audit key swapped, re-signed or world-readable": (
        "tests/security/test_audit_key.py",
        "tests/audit/test_anchors.py::test_13_13", "tests/audit/test_anchors.py::test_15_1"),
    "15.2 trust store forged by SQL": (
        "tests/security/test_sealed_state.py", "tests/packages/test_t15_trust.py"),
    "15.3 admin signs approvals / reset hands over a key": (
        "tests/test_policy_matrix.py::test_15_3", "tests/test_policy_matrix.py::test_admin",
        "tests/security/test_reset_and_recovery.py::test_15_3"),
    "15.4 unsigned ROLLBACK/BEGIN/ABORT from any master": (
        "tests/devices/test_command_proof.py", "tests/devices/test_mbpoll.py"),
    "15.5 last administrator locked out for good": (
        "tests/security/test_reset_and_recovery.py::test_15_5",),
    "15.6 formula injection in events.csv": ("tests/audit/test_export_csv.py",),
    "15.7 release counter out of range": (
        "tests/packages/test_counter_bounds.py",
        "tests/devices/test_selftest_golden.py::test_state_file_counter"),
    "15.8 kill after COMMIT: audit disagrees with the device": (
        "tests/services/test_controllers.py::test_t158_reconcile",),
    "15.9 empty golden outputs pass the self-test": (
        "tests/devices/test_selftest_golden.py::test_incomplete",),
    "15.10 undocumented function codes, wrong exceptions": (
        "tests/devices/test_modbus_conformance.py",),
    "15.11 export not verifiable from the documentation": (
        "tests/audit/test_standalone_verifier.py",),
    "15.12 FIFO, junk options, overwrite, tracebacks, crash log": (
        "tests/test_cli_errors.py", "tests/devices/test_serve_args.py"),
    "15.13 tests that did not test (T01, T05, T23)": (
        "tests/test_crash_kill.py", "tests/test_audit_tamper.py::test_t05",
        "tests/test_policy_matrix.py::test_t23"),
    "13.13-16 pinned key, erased checkpoints, trust off-chain, dropped triggers": (
        "tests/audit/test_anchors.py::test_13_14", "tests/security/test_protections.py",
        "tests/test_audit_tamper.py::test_t04"),
}


def _node(case: ET.Element) -> str:
    path = case.get("classname", "").replace(".", "/")
    return f"{path}.py::{case.get('name', '')}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = parser.parse_args()
    files = sorted({p.split("::")[0] for prefixes in ATTACKS.values() for p in prefixes})
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                         f"--junitxml={report}", *files], cwd=REPO, env=env)
        cases = list(ET.parse(report).getroot().iter("testcase"))
    rows = []
    for attack, prefixes in ATTACKS.items():
        mine = [c for c in cases if any(_node(c).startswith(p) for p in prefixes)]
        bad = [c for c in mine if c.find("failure") is not None or c.find("error") is not None]
        skipped = [c for c in mine if c.find("skipped") is not None]
        rows.append((attack, len(mine), len(mine) - len(bad) - len(skipped), len(skipped)))
    if args.markdown:
        print("| attack | tries | refused | skipped |\n|---|---:|---:|---:|")
        for attack, tries, refused, skipped in rows:
            print(f"| {attack} | {tries} | {refused} | {skipped} |")
    else:
        for attack, tries, refused, skipped in rows:
            print(f"{attack:<75} {tries:>5} {refused:>5} {skipped:>3}")
    total = sum(r[1] for r in rows)
    print(f"total: {total} tries, {sum(r[2] for r in rows)} refused, "
          f"{sum(r[3] for r in rows)} skipped")
    return 0 if all(r[1] == r[2] + r[3] for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
