"""Issue 11: an export of a trail written by several workstations carries every key that
signed one of its checkpoints and verifies offline, in PlantML and with the standalone
verifier run by a plain Python; pinned keys (--key, repeatable) are then the only keys
accepted, in an export and in the registry; exports of the previous format verify as before."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.keys import AuditKey
from app.cli import main as cli_main
from app.core.errors import IntegrityError
from app.services.audit import verify_export_folder
from tests.audit.tamper import resign_manifest
from tests.backends import open_workstation
from tests.conftest import password_of

KEYS = "audit_public_keys.json"


@pytest.fixture
def plant(shared_url, tmp_path):
    """Two workstations writing one registry, each signing checkpoints with its own key, an
    export written on ws-a, and each workstation's public key kept apart (a.pem, b.pem)."""
    with open_workstation(tmp_path, shared_url, "ws-a") as a:
        admin = a.auth.bootstrap_admin(username="admin", password=password_of("admin"))
        a.users.add(admin, username="auditor1", password=password_of("auditor1"),
                    roles=["auditor"])
        with open_workstation(tmp_path, shared_url, "ws-b", blob_folder=None) as b:
            b_admin = b.auth.login(username="admin", password=password_of("admin"))
            for i in range(6):
                a.settings.set(admin, key="security.idle_lock_minutes", value=10 + i)
                b.settings.set(b_admin, key="security.idle_lock_minutes", value=20 + i)
            auditor = a.auth.login(username="auditor1", password=password_of("auditor1"))
            export = tmp_path / "usb" / "export"
            a.audit.export(auditor, folder=export)
            pems = tmp_path / "usb" / "a.pem", tmp_path / "usb" / "b.pem"
            pems[0].write_bytes(a.audit.key.public_pem())
            pems[1].write_bytes(b.audit.key.public_pem())
            yield {"a": a, "b": b, "admin": admin, "export": export, "pems": pems,
                   "first_b": _first_checkpoint_of(export, b.audit.key_id)}


def _first_checkpoint_of(export: Path, key_id: str) -> int:
    lines = (export / "checkpoints.jsonl").read_text(encoding="utf-8").splitlines()
    return min(c["seq"] for c in map(json.loads, lines) if c["key_id"] == key_id)


def _python_as_documented() -> list[str]:
    """A Python as docs/audit-export.md asks for (3.9+ with `cryptography`) that cannot import
    PlantML, if this machine has one; else this interpreter in isolated mode."""
    probe = ("import importlib.util as u, sys\nimport cryptography\n"
             "sys.exit(0 if sys.version_info >= (3, 9) and u.find_spec('app') is None else 3)")
    for candidate in (shutil.which("python3"), "/usr/bin/python3", shutil.which("python")):
        if candidate and Path(candidate).exists() and subprocess.run(
                [candidate, "-I", "-c", probe], capture_output=True, timeout=60,
                check=False).returncode == 0:
            return [candidate, "-I"]
    return [sys.executable, "-I"]


def run_verifier(folder: Path, *args: str) -> subprocess.CompletedProcess:
    """The verifier shipped inside the export, run from it as the export's docs say."""
    return subprocess.run([*_python_as_documented(), "plantml_audit_verify.py", ".", *args],
                          cwd=folder, capture_output=True, text=True, timeout=120, check=False)


def _problem(folder: Path, pems=None) -> str:
    """What PlantML's own verifier says is wrong with an export ("" if it verifies)."""
    try:
        report = verify_export_folder(folder, pems)
    except IntegrityError as exc:
        return str(exc)
    return "" if report.ok else report.problem


def test_an_export_of_two_workstations_carries_both_keys_and_verifies_offline(plant):
    export, a, b = plant["export"], plant["a"], plant["b"]
    manifest = json.loads((export / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "plantml-audit-export-v3" and KEYS in manifest["files"]
    listed = json.loads((export / KEYS).read_text(encoding="utf-8"))
    want = [(k.key_id, ws, _fingerprint(k)) for k, ws in ((a.audit.key, "ws-a"),
                                                           (b.audit.key, "ws-b"))]
    assert [(e["key_id"], e["workstation"], e["fingerprint"]) for e in listed] == want
    report = verify_export_folder(export)
    assert report.ok, report.problem
    assert any(a.audit.key_id in n and b.audit.key_id in n for n in report.notes)
    r = run_verifier(export)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("intact:") and b.audit.key_id in r.stdout
    # The readable reports name every key with its fingerprint.
    html = (export / "report.html").read_text(encoding="utf-8")
    for _key_id, workstation, fingerprint in want:
        assert fingerprint in html and workstation in html
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-layout", str(export / "report.pdf"), "-"],
                              capture_output=True, text=True, check=True).stdout
        assert all(fingerprint in text for _k, _w, fingerprint in want)


def _fingerprint(key: AuditKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = key.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _entry(key: AuditKey, workstation: str) -> dict:
    return {"key_id": key.key_id, "fingerprint": _fingerprint(key), "workstation": workstation,
            "public_key": key.public_pem().decode("ascii")}


def test_a_key_swapped_in_the_list_fails_naming_the_key(plant, tmp_path):
    export, a, b = plant["export"], plant["a"].audit.key, plant["b"].audit.key
    intruder = AuditKey(Ed25519PrivateKey.generate())
    # Edited without the exporting key: the manifest no longer covers the list.
    copy = tmp_path / "edited"
    shutil.copytree(export, copy)
    listed = json.loads((copy / KEYS).read_text(encoding="utf-8"))
    listed[1]["public_key"] = intruder.public_pem().decode("ascii")
    (copy / KEYS).write_text(json.dumps(listed), encoding="utf-8")
    assert f"{KEYS}: content differs from the manifest" in _problem(copy)
    assert f"{KEYS}: differs from the manifest" in run_verifier(copy).stdout
    # ws-b's key replaced under its own id, the manifest signed again by ws-a's key holder.
    resign_manifest(copy, a)
    assert (f"the entry for audit key {b.key_id} (ws-b) holds another public key "
            f"({intruder.key_id}): the key list was altered") in _problem(copy)
    r = run_verifier(copy)
    assert r.returncode == 1 and (f"the entry for audit key {b.key_id} holds another public "
                                  f"key ({intruder.key_id})") in r.stdout, r.stdout
    # ws-b's whole entry replaced by another key's: ws-b's checkpoints are named.
    copy = tmp_path / "replaced"
    shutil.copytree(export, copy)
    (copy / KEYS).write_text(json.dumps([_entry(a, "ws-a"), _entry(intruder, "ws-b")]),
                             encoding="utf-8")
    resign_manifest(copy, a)
    seq = plant["first_b"]
    assert (f"the checkpoint at sequence {seq} is not signed by any of the export's audit "
            f"keys {', '.join(sorted((a.key_id, intruder.key_id)))} (it names audit key "
            f"{b.key_id})") in _problem(copy)
    r = run_verifier(copy)
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"checkpoint at {seq} is signed by key {b.key_id}, which is not in the export's " \
        "key list" in r.stdout


def test_pinned_keys_are_the_only_keys_accepted(plant, monkeypatch, capsys):
    export, (a_pem, b_pem), seq = plant["export"], plant["pems"], plant["first_b"]
    a_id, b_id = plant["a"].audit.key_id, plant["b"].audit.key_id
    # Only ws-a's key pinned: ws-b's checkpoints fail, named by key and sequence.
    assert _problem(export, [a_pem]) == (f"the checkpoint at sequence {seq} is not signed by "
                                         f"the pinned audit key {a_id} (it names audit key "
                                         f"{b_id})")
    r = run_verifier(export, "--key", str(a_pem))
    assert r.returncode == 1 and (f"checkpoint at {seq} is signed by key {b_id}, which is not "
                                  "pinned") in r.stdout, r.stdout
    assert cli_main.main(["audit", "verify", str(export), "--key", str(a_pem)]) == 5
    assert f"it names audit key {b_id}" in capsys.readouterr().out
    # Only ws-b's: the export itself is signed by ws-a's key.
    assert f"carries audit key {a_id}, not the pinned key {b_id}" in _problem(export, [b_pem])
    assert run_verifier(export, "--key", str(b_pem)).returncode == 1
    # Both: intact.
    assert _problem(export, [a_pem, b_pem]) == ""
    r = run_verifier(export, "--key", str(a_pem), "--key", str(b_pem))
    assert r.returncode == 0, r.stdout + r.stderr
    assert cli_main.main(["audit", "verify", str(export), "--key", str(a_pem),
                          "--key", str(b_pem)]) == 0
    capsys.readouterr()
    # The registry: the same rule.
    a, admin = plant["a"], plant["admin"]
    report = a.audit.verify(admin, pinned_keys=[a_pem.read_bytes()])
    assert not report.ok and f"(it names audit key {b_id})" in report.problem
    assert a.audit.verify(admin, pinned_keys=[a_pem.read_bytes(), b_pem.read_bytes()]).ok
    report = a.audit.verify(admin, pinned_keys=[b_pem.read_bytes()])
    assert not report.ok and f"signs with audit key {a_id}, not the pinned key {b_id}" in \
        report.problem
    monkeypatch.setenv("PLANTML_HOME", str(a.paths.home))
    monkeypatch.setenv("PLANTML_USER", "admin")
    monkeypatch.setenv("PLANTML_PASSWORD", password_of("admin"))
    assert cli_main.main(["audit", "verify", "--key", str(a_pem), "--key", str(b_pem)]) == 0
    assert cli_main.main(["audit", "verify", "--key", str(a_pem)]) == 5
    assert b_id in capsys.readouterr().out


def test_an_export_of_the_previous_format_verifies_as_before(services, people, tmp_path):
    """One workstation: a format-2 export (one key, no list) verifies, pinned or not."""
    one = tmp_path / "one"
    services.audit.export(people["auditor"], folder=one)
    resign_manifest(one, services.audit.key, drop=(KEYS,), format="plantml-audit-export-v2")
    pem = tmp_path / "one.pem"
    pem.write_bytes(services.audit.key.public_pem())
    for pins in (None, [pem]):
        assert _problem(one, pins) == ""
        r = run_verifier(one, *(["--key", str(pem)] if pins else []))
        assert r.returncode == 0, r.stdout + r.stderr


def test_a_previous_format_export_of_two_workstations_still_fails_naming_the_key(plant,
                                                                                  tmp_path):
    """As before the key list: only the exporting workstation's key is in it."""
    two = tmp_path / "two"
    shutil.copytree(plant["export"], two)
    resign_manifest(two, plant["a"].audit.key, drop=(KEYS,), format="plantml-audit-export-v2")
    b_id = plant["b"].audit.key_id
    assert f"(it names audit key {b_id})" in _problem(two)
    assert f"signed by key {b_id}" in run_verifier(two).stdout
