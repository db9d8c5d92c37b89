"""15.11: the standalone verifier (resources/verifier, under 200 lines, only `cryptography`)
ships in every export, accepts a real export and refuses every tampered copy, as
`plantml audit verify` does."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.keys import AuditKey
from app.core.errors import IntegrityError
from app.services.audit import verify_export_folder
from tests.audit.tamper import export_lines, rechain, resign_export, write_lines
from tests.conftest import password_of

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "resources" / "verifier" / "plantml_audit_verify.py"


@pytest.fixture
def exports(services, people, tmp_path):
    """Two real exports of a trail with accounts, a release approved and settings changes."""
    from tests.services.release_kit import register

    v = register(services, people["engineer"])
    services.approvals.propose(people["engineer"], ref=v.ref, password=password_of("engineer1"),
                               hardware_ids=["HW"], reason="ready")
    services.approvals.decide(people["approver"], ref=v.ref, password=password_of("approver1"),
                              meaning="approved", reason="reviewed")
    for i in range(7):
        services.settings.set(people["admin"], key="security.idle_lock_minutes", value=20 + i,
                              reason=f"change {i}")
    first = tmp_path / "first"
    services.audit.export(people["auditor"], folder=first)
    for i in range(4):
        services.settings.set(people["admin"], key="security.idle_lock_minutes", value=40 + i,
                              reason=f"later {i}")
    second = tmp_path / "second"
    services.audit.export(people["auditor"], folder=second)
    pem = tmp_path / "pinned.pem"
    pem.write_bytes(services.audit.key.public_pem())
    return first, second, pem, AuditKey.load_or_create(services.paths.keys)


def run_verifier(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """The copy inside the export, run from the export folder as an auditor would."""
    return subprocess.run([sys.executable, "-I", "plantml_audit_verify.py", ".", *args],
                          cwd=folder, capture_output=True, text=True, timeout=120, check=False)


def app_refuses(folder: Path, pem: Path | None, anchors=()) -> bool:
    try:
        return not verify_export_folder(folder, pem, anchors).ok
    except IntegrityError:
        return True


def test_the_verifier_is_small_and_needs_only_cryptography():
    source = VERIFIER.read_text(encoding="utf-8")
    assert len(source.splitlines()) < 200
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported - set(sys.stdlib_module_names) == {"cryptography"}


def test_every_export_ships_the_verifier_and_it_accepts_a_real_export(exports):
    first, second, pem, _key = exports
    for folder in (first, second):
        assert (folder / "plantml_audit_verify.py").read_bytes() == VERIFIER.read_bytes()
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        assert "plantml_audit_verify.py" in manifest["files"]
        r = run_verifier(folder, "--key", str(pem))
        assert r.returncode == 0, r.stdout + r.stderr
        assert r.stdout.startswith("intact:")
        assert verify_export_folder(folder, pem).ok
    r = run_verifier(second, "--anchor", str(first / "checkpoint.json"))
    assert r.returncode == 0, r.stdout


def _changed_row(folder, key):
    text = (folder / "events.jsonl").read_text(encoding="utf-8")
    (folder / "events.jsonl").write_text(text.replace("change 3", "change 9", 1),
                                         encoding="utf-8")


def _changed_row_resigned(folder, key):
    _changed_row(folder, key)
    resign_export(folder, key)


def _deleted_row(folder, key):
    records = export_lines(folder)
    del records[10]
    write_lines(folder, records)
    resign_export(folder, key)


def _reordered(folder, key):
    records = export_lines(folder)
    records[11], records[12] = records[12], records[11]
    write_lines(folder, records)
    resign_export(folder, key)


def _cut_tail(folder, key):
    write_lines(folder, export_lines(folder)[:-3])
    resign_export(folder, key)


def _erased_checkpoints(folder, key):
    (folder / "checkpoints.jsonl").write_text("", encoding="utf-8")
    resign_export(folder, key)


def _deleted_closing_checkpoint(folder, key):
    (folder / "checkpoint.json").unlink()


def _swapped_key(folder, key):
    attacker = AuditKey(Ed25519PrivateKey.generate())
    records = export_lines(folder)
    for r in records:
        r["body"] = r["body"].replace('"reason":"change 3"', '"reason":"nothing"')
    write_lines(folder, rechain(records))
    resign_export(folder, attacker, checkpoints_with=attacker)


def _resigned_history_with_the_real_key(folder, key):
    records = export_lines(folder)
    for r in records:
        r["body"] = r["body"].replace('"reason":"change 3"', '"reason":"nothing"')
    write_lines(folder, rechain(records))
    resign_export(folder, key, checkpoints_with=key)


TAMPERINGS = {
    "changed row": (_changed_row, "differs from the manifest"),
    "changed row, manifest signed again": (_changed_row_resigned, "does not match its hash"),
    "deleted row": (_deleted_row, "missing, moved or repeated"),
    "reordered rows": (_reordered, "missing, moved or repeated"),
    "cut tail": (_cut_tail, "tail was cut"),
    "erased checkpoints": (_erased_checkpoints, "checkpoints were removed"),
    "deleted closing checkpoint": (_deleted_closing_checkpoint, "missing"),
    "swapped key": (_swapped_key, "not the pinned key"),
}


@pytest.mark.parametrize("name", TAMPERINGS)
def test_every_tampered_copy_is_refused_by_both_verifiers(exports, tmp_path, name):
    _first, second, pem, key = exports
    copy = tmp_path / "copy"
    shutil.copytree(second, copy)
    tamper, message = TAMPERINGS[name]
    tamper(copy, key)
    r = run_verifier(copy, "--key", str(pem))
    assert r.returncode == 1, r.stdout + r.stderr
    assert message in r.stdout, r.stdout
    assert app_refuses(copy, pem)


def test_history_signed_again_with_the_real_key_is_refused_against_an_earlier_export(
        exports, tmp_path):
    first, second, pem, key = exports
    copy = tmp_path / "copy"
    shutil.copytree(second, copy)
    _resigned_history_with_the_real_key(copy, key)
    # Alone it is self-consistent (the key holder signed it): the earlier export decides.
    assert run_verifier(copy, "--key", str(pem)).returncode == 0
    r = run_verifier(copy, "--key", str(pem), "--anchor", str(first / "checkpoint.json"))
    assert r.returncode == 1 and "rewritten" in r.stdout, r.stdout
    from app.services.audit import load_anchors

    assert app_refuses(copy, pem, [first])
    assert not app_refuses(second, pem, [first])
    assert load_anchors([first])
