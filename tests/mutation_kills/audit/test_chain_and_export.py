"""The audit trail's checks one rule at a time. The hash chain's walk: a forger who recomputes
a changed row's own hash is caught only by the link to the previous event (with the link check
disabled, all 20 tamper tests once stayed green), and each break names the right event and
reason. The export's verification: see its section below."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from app.audit.chain import (
    FIELDS,
    GENESIS,
    ChainBreak,
    chain_hash,
    event_body,
    to_event,
    walk_chain,
)
from app.audit.checkpoints import make_checkpoint
from app.audit.expected import expected_checkpoints
from app.audit.export import FORMAT_V1, write_export
from app.audit.export_verify import verify_export
from app.audit.keyprotect import default_protector, protector_named
from app.audit.keys import KEY_NAME, PRIVATE_NAME, AuditKey
from app.audit.verify import Anchor, verify_rows
from app.core.canonical import canonical_bytes
from app.core.errors import IntegrityError
from app.core.progress import CancelToken, no_progress
from app.core.records import VerifyReport
from app.store.schema import AuditEventRow
from tests.audit.tamper import resign_manifest


def _body(i: int) -> str:
    return event_body(ts=datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=timezone(timedelta(hours=1))),
                      user=f"u{i}", role="engineer", workstation="ws1", action="model.train",
                      obj=f"model/{i}", old=None, new={"n": i}, reason="r", result="ok")


def _rows(n: int, *, start: int = 1, prev: str = GENESIS) -> list[tuple[int, str, str, str]]:
    rows = []
    for seq in range(start, start + n):
        body = _body(seq)
        digest = chain_hash(seq, prev, body)
        rows.append((seq, body, prev, digest))
        prev = digest
    return rows


def test_chain_hash_is_sha256_of_seq_prev_and_body():
    want = hashlib.sha256(f"7\n{'a' * 64}\nbody".encode()).hexdigest()
    assert chain_hash(7, "a" * 64, "body") == want
    assert chain_hash(8, "a" * 64, "body") != want
    assert GENESIS == "0" * 64


def test_event_body_is_canonical_and_keeps_the_utc_offset():
    data = json.loads(_body(3))
    assert sorted(data) == sorted(FIELDS)
    assert data["ts"] == "2026-01-02T03:04:05.000006+01:00"
    assert data["utc_offset_min"] == 60
    assert data["user"] == "u3" and data["object"] == "model/3" and data["new"] == {"n": 3}
    naive = json.loads(event_body(ts=datetime(2026, 1, 2), user="u", role="r", workstation="w",
                                  action="a", obj="o", old=1, new=2, reason="", result="ok"))
    assert naive["utc_offset_min"] == 0 and naive["old"] == 1


def test_to_event_decodes_every_field():
    seq, body, prev, digest = _rows(1)[0]
    ev = to_event(seq, body, prev, digest)
    assert (ev.seq, ev.prev_hash, ev.hash) == (1, GENESIS, digest)
    assert (ev.user, ev.role, ev.workstation, ev.action, ev.object) == \
        ("u1", "engineer", "ws1", "model.train", "model/1")
    assert (ev.old, ev.new, ev.reason, ev.result, ev.utc_offset_min) == \
        (None, {"n": 1}, "r", "ok", 60)
    assert ev.ts == "2026-01-02T03:04:05.000006+01:00"


def test_an_intact_chain_yields_the_wanted_hashes_and_the_head():
    rows = _rows(5)
    got = list(walk_chain(rows, {2, 4}))
    assert got == [(2, rows[1][3]), (4, rows[3][3]), (5, rows[4][3])]
    assert list(walk_chain(rows)) == [(5, rows[4][3])]
    assert list(walk_chain([])) == [(0, GENESIS)]


def test_a_chain_may_start_after_a_checkpoint():
    head = _rows(3)
    tail = _rows(2, start=4, prev=head[-1][3])
    assert list(walk_chain(tail, start_seq=4, start_prev=head[-1][3])) == [(5, tail[-1][3])]
    with pytest.raises(ChainBreak) as err:
        list(walk_chain(tail, start_seq=4))  # from the genesis hash the link does not hold
    assert err.value.seq == 4 and "link" in err.value.problem


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link():
    rows = _rows(4)
    seq, _body_, prev, _ = rows[1]
    forged = _body(99)
    rows[1] = (seq, forged, prev, chain_hash(seq, prev, forged))  # row 2 itself verifies
    with pytest.raises(ChainBreak) as err:
        list(walk_chain(rows))
    assert err.value.seq == 3
    assert err.value.problem == str(err.value)
    assert "link to the previous event does not match" in err.value.problem


def test_an_altered_row_breaks_at_that_row():
    rows = _rows(3)
    seq, body, prev, digest = rows[2]
    rows[2] = (seq, body.replace("u3", "u4"), prev, digest)
    with pytest.raises(ChainBreak) as err:
        list(walk_chain(rows))
    assert err.value.seq == 3 and "content does not match its hash" in err.value.problem


def test_missing_events_name_the_gap():
    rows = _rows(6)
    with pytest.raises(ChainBreak) as err:
        list(walk_chain(rows[:2] + rows[4:]))
    assert err.value.seq == 3 and err.value.problem == "events 3 to 4 are missing"


def test_a_repeated_or_reordered_event_is_named():
    rows = _rows(3)
    with pytest.raises(ChainBreak) as err:
        list(walk_chain([rows[0], rows[1], rows[1]]))
    assert err.value.seq == 2 and err.value.problem == "sequence 2 appears out of order or twice"


def test_hashes_before_the_break_are_yielded_first():
    rows = _rows(4)
    rows[3] = (4, rows[3][1], rows[3][2], "0" * 64)
    walk = walk_chain(rows, {1, 3})
    assert next(walk) == (1, rows[0][3])
    assert next(walk) == (3, rows[2][3])
    with pytest.raises(ChainBreak):
        next(walk)


# --- The export, verified file by file ---
# The checkpoint every approval, export and seal gets is demanded from the events themselves
# (v2), an old v1 export still verifies with such events, damaged lines are named by file and
# line, and a legacy key file holding another kind of key is named.

TS = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


def _export_rows(actions: list[str]) -> list[tuple[int, str, str, str]]:
    rows, prev = [], GENESIS
    for seq, action in enumerate(actions, 1):
        body = event_body(ts=TS, user="ann", role="approver", workstation="ws1", action=action,
                          obj=f"model/{seq}", old=None, new={"n": seq}, reason="Prüfung",
                          result="ok")
        digest = chain_hash(seq, prev, body)
        rows.append((seq, body, prev, digest))
        prev = digest
    return rows


def _export(folder: Path, key: AuditKey, actions: list[str], signed_at: list[int]) -> Path:
    """A real export of a trail with ``actions``, checkpoints at ``signed_at`` and the end."""
    rows = _export_rows(actions)
    cps = [make_checkpoint(key, s, rows[s - 1][3], TS.isoformat(), "ws1") for s in signed_at]
    closing = make_checkpoint(key, len(rows), rows[-1][3], TS.isoformat(), "ws1")
    write_export(folder, lambda: iter(rows), len(rows), closing, key,
                 VerifyReport(ok=True, events_checked=len(rows), last_seq=len(rows)),
                 progress=no_progress, cancel=CancelToken(), checkpoints=cps, interval=100)
    return folder


ACTIONS = ["user.create", "settings.change", "model.approve", "model.train", "user.login"]


def test_an_intact_export_with_an_approval_verifies(tmp_path, key):
    report = verify_export(_export(tmp_path / "x", key, ACTIONS, [3]))
    assert report.ok, report.problem
    assert (report.last_seq, report.checkpoint_seq) == (5, 5)


def test_the_checkpoint_at_an_approval_removed_from_an_export_is_named(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    (folder / "checkpoints.jsonl").write_text("", encoding="utf-8")
    resign_manifest(folder, key)
    report = verify_export(folder)
    assert not report.ok and report.first_bad_seq == 3
    assert report.problem == ("the signed checkpoint every export, approval and security "
                              "change gets is missing at sequence 3: checkpoints were removed")


def test_a_failed_approval_needs_no_checkpoint(tmp_path, key):
    folder = tmp_path / "x"
    rows = _export_rows(["user.create", "model.approve", "user.login"])
    # The second event is a refused approval: no checkpoint is written for it.
    body = rows[1][1].replace('"result":"ok"', '"result":"refused"')
    rows[1] = (2, body, rows[0][3], chain_hash(2, rows[0][3], body))
    rows[2] = (3, rows[2][1], rows[1][3], chain_hash(3, rows[1][3], rows[2][1]))
    closing = make_checkpoint(key, 3, rows[2][3], TS.isoformat(), "ws1")
    write_export(folder, lambda: iter(rows), 3, closing, key,
                 VerifyReport(ok=True, events_checked=3, last_seq=3),
                 progress=no_progress, cancel=CancelToken(), interval=100)
    assert verify_export(folder).ok


def test_a_v1_export_with_approvals_still_verifies(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    (folder / "checkpoints.jsonl").unlink()
    resign_manifest(folder, key, format=FORMAT_V1)
    report = verify_export(folder)
    assert report.ok, report.problem
    assert "an export from before PlantML 0.2: only its closing checkpoint is there, so " \
           "removed checkpoints cannot be noticed" in report.notes


def test_a_damaged_checkpoint_line_is_named_by_file_and_line(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [2, 3])
    path = folder / "checkpoints.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text(lines[0] + "\n" + "{not json\n", encoding="utf-8")
    resign_manifest(folder, key)
    with pytest.raises(IntegrityError) as err:
        verify_export(folder)
    assert str(err.value) == f"{path} line 2: not a checkpoint"


def test_a_damaged_event_line_is_named_by_file_and_line(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    path = folder / "events.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = json.dumps({"seq": 2, "body": "x"})  # no hashes
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    resign_manifest(folder, key)
    with pytest.raises(IntegrityError) as err:
        verify_export(folder)
    assert str(err.value) == f"{path} line 2: not a valid event record"


def test_a_legacy_key_file_with_another_kind_of_key_is_named(tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o700)
    other = ec.generate_private_key(ec.SECP256R1())
    (keys / PRIVATE_NAME).write_bytes(other.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    with pytest.raises(IntegrityError) as err:
        AuditKey.load_or_create(keys)
    assert str(err.value) == f"{keys / PRIVATE_NAME} does not hold an Ed25519 key"


def test_events_past_the_closing_checkpoint_are_refused(tmp_path, key):
    rows = _export_rows(ACTIONS)
    folder = tmp_path / "x"
    closing = make_checkpoint(key, 4, rows[3][3], TS.isoformat(), "ws1")  # 5 events written
    write_export(folder, lambda: iter(rows), 5, closing, key,
                 VerifyReport(ok=True, events_checked=5, last_seq=5), progress=no_progress,
                 cancel=CancelToken(), checkpoints=[make_checkpoint(
                     key, 3, rows[2][3], TS.isoformat(), "ws1")], interval=100)
    report = verify_export(folder)
    assert not report.ok and report.first_bad_seq == 5
    assert report.problem == "the export's closing checkpoint covers 4 events, the file holds 5"
    assert (report.events_checked, report.last_seq, report.key_id) == (5, 5, key.key_id)


def test_an_anchor_newer_than_an_export_is_noted_not_refused(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    later = make_checkpoint(key, 9, "ab" * 32, TS.isoformat(), "ws1")
    report = verify_export(folder, anchors=[Anchor("a later export", later)])
    assert report.ok, report.problem
    assert report.key_id == key.key_id
    assert ("a later export: its checkpoint at 9 is newer than this trail (ends at 5); "
            "not compared") in report.notes


def test_a_checkpoint_signed_by_another_key_fails_before_any_event_is_counted(key):
    rows = _export_rows(ACTIONS)
    forged = make_checkpoint(AuditKey(Ed25519PrivateKey.generate()), 3, rows[2][3],
                             TS.isoformat(), "ws1")
    report = verify_rows(iter(rows), [forged], key.public)
    assert not report.ok
    assert (report.events_checked, report.last_seq, report.first_bad_seq) == (0, 0, 3)
    assert report.key_id == key.key_id
    assert report.problem == (f"the checkpoint at sequence 3 is not signed by the audit key "
                              f"{key.key_id} (it names audit key {forged.key_id})")


# --- The audit key under DPAPI ---
# On Linux DPAPI is played by a stand-in with pywin32's call signatures (an account secret and
# the caller's entropy bind the blob); tests/security/test_audit_key.py runs the real API on
# Windows. What is checked is what a stolen key file meets: another account, or another
# program of the same account that lacks PlantML's entropy, cannot decrypt it.

def _win32crypt(account: bytes) -> SimpleNamespace:
    """pywin32's win32crypt for one Windows account."""

    def mac(entropy: bytes | None) -> str:
        return hmac.new(account, entropy or b"", hashlib.sha256).hexdigest()

    def flags_ok(flags) -> None:
        if not isinstance(flags, int):  # pywin32 parses Flags as an integer
            raise TypeError("an integer is required (got type NoneType)")

    def protect(data, description, entropy, reserved, prompt, flags):
        flags_ok(flags)
        blob = {"desc": description, "mac": mac(entropy),
                "data": bytes(b ^ 0x5A for b in data).hex()}
        return json.dumps(blob).encode()

    def unprotect(blob, entropy, reserved, prompt, flags):
        flags_ok(flags)
        doc = json.loads(blob)
        if not hmac.compare_digest(doc["mac"], mac(entropy)):
            raise RuntimeError("(-2146893813, 'CryptUnprotectData', "
                               "'Key not valid for use in specified state.')")
        return doc["desc"], bytes(b ^ 0x5A for b in bytes.fromhex(doc["data"]))

    return SimpleNamespace(CryptProtectData=protect, CryptUnprotectData=unprotect)


@pytest.fixture
def windows(monkeypatch):
    """Run as on Windows, as one account; returns a function switching the account."""
    def account(name: bytes) -> SimpleNamespace:
        crypt = _win32crypt(name)
        monkeypatch.setitem(sys.modules, "win32crypt", crypt)
        return crypt

    monkeypatch.setattr(sys, "platform", "win32")
    account(b"plant\\operator")
    return account


def test_on_windows_the_key_is_kept_under_dpapi_and_opens_again(tmp_path, windows):
    key = AuditKey.load_or_create(tmp_path / "keys")
    assert key.protector == "dpapi"
    doc = json.loads((tmp_path / "keys" / KEY_NAME).read_text(encoding="utf-8"))
    assert doc["protector"] == "dpapi"
    raw = key._private.private_bytes(serialization.Encoding.Raw,
                                     serialization.PrivateFormat.Raw,
                                     serialization.NoEncryption())
    assert raw.hex() not in base64.b64decode(doc["private"]).decode()
    assert AuditKey.load_or_create(tmp_path / "keys").key_id == key.key_id


def test_a_dpapi_key_copied_to_another_account_cannot_be_opened(tmp_path, windows):
    AuditKey.load_or_create(tmp_path / "keys")
    windows(b"home\\mallory")
    with pytest.raises(IntegrityError) as err:
        AuditKey.load_or_create(tmp_path / "keys")
    assert str(err.value) == (
        "the audit key cannot be decrypted on this Windows account (DPAPI: (-2146893813, "
        "'CryptUnprotectData', 'Key not valid for use in specified state.')); it was made by "
        "another account or machine")


def test_another_program_of_the_same_account_needs_plantmls_entropy(tmp_path, windows):
    AuditKey.load_or_create(tmp_path / "keys")
    doc = json.loads((tmp_path / "keys" / KEY_NAME).read_text(encoding="utf-8"))
    blob = base64.b64decode(doc["private"])
    crypt = sys.modules["win32crypt"]
    with pytest.raises(RuntimeError):
        crypt.CryptUnprotectData(blob, None, None, None, 0)
    assert crypt.CryptUnprotectData(blob, b"plantml-audit-key-v2", None, None, 0)[0] == \
        "PlantML audit key"


def test_dpapi_is_refused_off_windows_naming_why():
    with pytest.raises(IntegrityError) as err:
        protector_named("dpapi")
    assert str(err.value) == "DPAPI exists only on Windows"
    assert default_protector().name == "owner-only-file"


def _listing(folder: Path, key: AuditKey, files) -> IntegrityError:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("signature")
    manifest["files"] = files
    manifest["signature"] = key.sign(canonical_bytes(manifest))
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    with pytest.raises(IntegrityError) as err:
        verify_export(folder)
    return err.value


def test_a_manifest_without_a_file_list_is_named(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    assert str(_listing(folder, key, None)) == f"{folder / 'manifest.json'}: lists no files"


@pytest.mark.parametrize("name", ["../outside.txt", "..\\outside.txt"])
def test_a_listed_file_outside_the_export_folder_is_not_read(tmp_path, key, name):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"evidence from elsewhere")
    files = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))["files"]
    files[name] = {"sha256": hashlib.sha256(outside.read_bytes()).hexdigest(),
                   "length": outside.stat().st_size}
    err = _listing(folder, key, files)
    assert str(err) == f"{folder / name}: listed in the manifest but missing"


# --- Where a workspace's trail must have checkpoints ---

def test_only_successful_exports_approvals_and_seals_demand_a_checkpoint(services):
    with services.db.transaction() as s:
        for action, result in [("model.train", "ok"), ("model.approve", "refused"),
                               ("audit.export", "ok"), ("user.login", "ok"),
                               ("security.state", "ok"), ("model.approve", "ok")]:
            services.ctx.trail.append(s, user="ann", role="approver", action=action,
                                      result=result)
    with services.db.reader() as s:
        rows = [(seq, json.loads(body)) for seq, body in s.execute(
            select(AuditEventRow.seq, AuditEventRow.body).order_by(AuditEventRow.seq))]
        expected = expected_checkpoints(s, 5)
    must = {seq for seq, ev in rows
            if ev["action"] in ("audit.export", "model.approve", "security.state")
            and ev["result"] == "ok"}
    assert len(must) >= 3 and len(rows) > len(must) + 2  # ordinary and refused events too
    assert expected.at == must


@pytest.mark.parametrize("old,new,now,want", [
    (4, 2, 2, (5, 20)),  # created with 5, once 4, now 2: at least every 5, at lcm(2, 4, 5)
    (1, 5, 5, (5, 5)),   # once 1: a checkpoint at every event then, lcm(1, 5) = 5
])
def test_every_interval_the_trail_was_written_with_counts(services, old, new, now, want):
    with services.db.transaction() as s:
        for obj, before, after in [("setting:audit.checkpoint_interval", old, new),
                                   ("setting:security.idle_lock_minutes", 999, 30)]:
            services.ctx.trail.append(s, user="admin", role="admin", action="settings.change",
                                      obj=obj, old=before, new=after)
    with services.db.reader() as s:
        expected = expected_checkpoints(s, now)
    assert (expected.interval, expected.every) == want


def test_a_key_file_naming_an_unknown_protector_is_named(tmp_path):
    AuditKey.load_or_create(tmp_path / "keys")
    path = tmp_path / "keys" / KEY_NAME
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["protector"] = "tpm"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(IntegrityError) as err:
        AuditKey.load_or_create(tmp_path / "keys")
    assert str(err.value) == "the audit key is protected by 'tpm', which PlantML does not know"


def test_a_fresh_key_folder_is_made_owner_only_with_nothing_to_repair(tmp_path):
    keys = tmp_path / "new" / "workspace" / "keys"  # the parents do not exist yet either
    key = AuditKey.load_or_create(keys)
    assert key.changes == ()
    if os.name == "posix":
        assert stat.S_IMODE(keys.stat().st_mode) == 0o700
        assert stat.S_IMODE((keys / KEY_NAME).stat().st_mode) == 0o600
    assert AuditKey.load_or_create(keys).changes == ()


def test_a_decoded_event_keeps_its_old_value():
    body = event_body(ts=TS, user="u", role="admin", workstation="w", action="settings.change",
                      obj="setting:x", old={"minutes": 15}, new={"minutes": 20}, reason="",
                      result="ok")
    ev = to_event(1, body, GENESIS, chain_hash(1, GENESIS, body))
    assert (ev.old, ev.new) == ({"minutes": 15}, {"minutes": 20})


def test_each_break_says_exactly_what_was_found():
    # A changed prev_hash with a recomputed hash breaks its own link.
    rows = _rows(3)
    seq, body, _prev, _ = rows[1]
    rows[1] = (seq, body, "f" * 64, chain_hash(seq, "f" * 64, body))
    with pytest.raises(ChainBreak) as err:
        list(walk_chain(rows))
    assert err.value.seq == 2
    assert err.value.problem == ("the link to the previous event does not match (an event "
                                 "before it was changed, removed or reordered)")
    rows = _rows(3)
    rows[2] = (3, rows[2][1].replace("u3", "u4"), rows[2][2], rows[2][3])
    with pytest.raises(ChainBreak) as err:
        list(walk_chain(rows))
    assert err.value.problem == "the event's content does not match its hash (the row was altered)"


def test_an_offset_with_seconds_is_floored_to_the_minute():
    # Local mean time (New York before 1883 was UTC-4:56:02): whole minutes, rounded down.
    lmt = timezone(-timedelta(hours=4, minutes=56, seconds=2))
    data = json.loads(event_body(ts=datetime(1880, 1, 1, tzinfo=lmt), user="u", role="r",
                                 workstation="w", action="a", obj="o", old=None, new=None,
                                 reason="", result="ok"))
    assert data["utc_offset_min"] == -297
