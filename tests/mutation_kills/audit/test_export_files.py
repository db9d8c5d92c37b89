"""An export's files against its manifest: a name that is not a plain file name is never
read, every file the format needs must be listed, a file larger than one read is measured
whole, and a manifest that is not JSON is named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.chain import GENESIS, chain_hash, event_body
from app.audit.checkpoints import make_checkpoint
from app.audit.export import FORMAT_V2, write_export
from app.audit.export_verify import MANIFEST, PUBLIC_KEY, verify_export
from app.audit.keylist import KEYS, ListedKey, key_list_bytes
from app.audit.keys import AuditKey
from app.core.errors import IntegrityError
from app.core.progress import CancelToken, no_progress
from app.core.records import VerifyReport
from tests.audit.tamper import resign_manifest
from tests.mutation_kills.audit.test_chain_and_export import ACTIONS, TS, _export


def _refusal(folder: Path) -> str:
    with pytest.raises(IntegrityError) as err:
        verify_export(folder)
    return str(err.value)


@pytest.mark.skipif(os.name != "posix", reason="a backslash is a path separator on Windows")
def test_a_listed_name_with_a_backslash_is_not_read_even_where_such_a_file_exists(tmp_path,
                                                                                  key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    name = "sub\\events.jsonl"
    (folder / name).write_bytes((folder / "events.jsonl").read_bytes())
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    resign_manifest(folder, key, files={**manifest["files"], name: {}})  # digests recomputed
    assert _refusal(folder) == f"{folder / name}: listed in the manifest but missing"


def test_a_current_export_must_list_its_key_list(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    resign_manifest(folder, key, drop=(KEYS,))
    assert _refusal(folder) == f"{folder / MANIFEST}: does not list {KEYS}"


def test_a_manifest_that_is_not_json_is_named(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    (folder / MANIFEST).write_text("{not json", encoding="utf-8")
    message = _refusal(folder)
    assert message.startswith(f"{folder / MANIFEST} is not a readable part of an audit "
                              "export: ")


def test_an_events_file_larger_than_one_read_verifies(tmp_path, key):
    rows, prev = [], GENESIS
    for seq in range(1, 401):
        body = event_body(ts=TS, user="eng", role="engineer", workstation="ws1",
                          action="dataset.import", obj=f"dataset/{seq}", old=None,
                          new={"columns": ["c" * 40] * 80}, reason="r", result="ok")
        digest = chain_hash(seq, prev, body)
        rows.append((seq, body, prev, digest))
        prev = digest
    closing = make_checkpoint(key, len(rows), rows[-1][3], TS.isoformat(), "ws1")
    folder = tmp_path / "big"
    write_export(folder, lambda: iter(rows), len(rows), closing, key,
                 VerifyReport(ok=True, events_checked=len(rows), last_seq=len(rows)),
                 progress=no_progress, cancel=CancelToken(), checkpoints=[], interval=1000)
    assert (folder / "events.jsonl").stat().st_size > 1 << 20
    report = verify_export(folder)
    assert report.ok, report.problem


def test_an_export_without_its_public_key_is_named(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    (folder / PUBLIC_KEY).unlink()
    assert _refusal(folder).startswith(f"{folder} is not a readable audit export: ")


def test_a_damaged_public_key_is_named_by_its_file(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    (folder / PUBLIC_KEY).write_bytes(b"-----BEGIN PUBLIC KEY-----\nAAAA\n")
    assert str(folder / PUBLIC_KEY) in _refusal(folder)


def test_an_export_signed_by_a_key_other_than_the_pinned_ones_names_them_all(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    pins = [AuditKey(Ed25519PrivateKey.generate()) for _ in range(2)]
    with pytest.raises(IntegrityError) as err:
        verify_export(folder, [p.public_pem() for p in pins])
    listed = ", ".join(sorted(p.key_id for p in pins))
    assert str(err.value) == (f"{folder / PUBLIC_KEY}: the export carries audit key "
                              f"{key.key_id}, not the pinned key {listed}: it was signed "
                              "again with another key")


def test_a_manifest_of_an_unknown_format_is_refused(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    resign_manifest(folder, key, format="plantml-audit-export/99")
    assert _refusal(folder) == f"{folder / MANIFEST}: not a PlantML audit export manifest"


def test_a_manifest_changed_without_the_key_is_refused(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest["events"] = 4
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    assert _refusal(folder) == (f"{folder / MANIFEST}: the manifest signature does not verify "
                                "with the audit key")


def test_the_manifests_checkpoint_multiple_is_demanded(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    resign_manifest(folder, key, checkpoint_every=2)
    report = verify_export(folder)
    assert not report.ok and report.first_bad_seq == 2
    assert report.problem == ("the signed checkpoint written every 2 events is missing at "
                              "sequence 2: checkpoints were removed")


def test_a_manifest_counting_other_events_than_the_file_holds_is_refused(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    resign_manifest(folder, key, events=len(ACTIONS) - 1)
    report = verify_export(folder)
    assert report.ok is False
    assert (report.first_bad_seq, report.events_checked, report.last_seq, report.key_id) == (
        len(ACTIONS) + 1, len(ACTIONS), len(ACTIONS), key.key_id)
    assert report.problem == (f"the manifest lists {len(ACTIONS) - 1} events, events.jsonl "
                              f"holds {len(ACTIONS)}")


def test_the_keys_an_export_was_verified_with_are_listed_with_their_workstations(tmp_path,
                                                                                 key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    other = AuditKey(Ed25519PrivateKey.generate())
    (folder / KEYS).write_bytes(key_list_bytes([ListedKey(key.key_id, "ws1", key.public),
                                                ListedKey(other.key_id, "ws2", other.public)]))
    resign_manifest(folder, key)
    report = verify_export(folder)
    assert report.ok, report.problem
    names = {key.key_id: "ws1", other.key_id: "ws2"}
    shown = ", ".join(f"{k} ({names[k]})" for k in sorted(names))
    assert (f"verified with the key(s) shipped in the export ({shown}); compare them with the "
            "workstations' keys, or pass --key for each") in report.notes


def test_an_export_of_format_2_shows_its_one_key_without_a_workstation(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    resign_manifest(folder, key, format=FORMAT_V2, drop=(KEYS,))
    report = verify_export(folder)
    assert report.ok, report.problem
    assert any(f"shipped in the export ({key.key_id} (?));" in n for n in report.notes)


def test_a_damaged_pinned_key_is_named_as_the_pinned_key(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    with pytest.raises(IntegrityError) as err:
        verify_export(folder, b"not a key")
    assert str(err.value).startswith("the pinned key is not a readable public key: ")


def test_every_file_the_manifest_leaves_out_is_named(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    resign_manifest(folder, key, drop=(KEYS, "checkpoints.jsonl"))
    assert _refusal(folder) == (f"{folder / MANIFEST}: does not list {KEYS}, "
                                "checkpoints.jsonl")


def test_a_manifest_without_a_checkpoint_multiple_demands_none(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    manifest.pop("checkpoint_every", None)
    (folder / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    resign_manifest(folder, key)
    report = verify_export(folder)
    assert report.ok, report.problem
