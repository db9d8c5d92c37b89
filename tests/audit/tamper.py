"""What an attacker with file access does to a workspace's trail: drop the protections, edit
and renumber rows, recompute the chain, and sign it again with the real or another key."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.chain import GENESIS, chain_hash
from app.audit.checkpoints import checkpoint_to_json, make_checkpoint
from app.audit.expected import CHECKPOINTED_ACTIONS
from app.audit.keyprotect import OwnerOnlyFile
from app.audit.keys import KEY_NAME, PUBLIC_NAME, AuditKey, _store, public_pem
from app.core.canonical import canonical_bytes

TRIGGERS = ("audit_events_no_update", "audit_events_no_delete", "audit_checkpoints_no_update",
            "audit_checkpoints_no_delete")


class RawConnection:
    """A plain DB-API connection to the registry, SQLite or PostgreSQL alike: ``?``
    parameters, autocommit, ``execute`` returning the cursor."""

    def __init__(self, services) -> None:
        db = services.db
        self.postgres = db.path is None
        if self.postgres:
            import psycopg

            url = db.url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._conn = psycopg.connect(url, autocommit=True)
        else:
            self._conn = sqlite3.connect(db.path, isolation_level=None)

    def execute(self, sql: str, params: tuple | list = ()):
        if self.postgres:
            return self._conn.execute(sql.replace("?", "%s"), tuple(params))
        return self._conn.execute(sql, tuple(params))

    def drop_trigger(self, name: str) -> None:
        table = name.rsplit("_no_", 1)[0]
        self.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if self.postgres
                                                         else ""))

    def close(self) -> None:
        self._conn.close()


def raw(services) -> RawConnection:
    """A plain connection to the workspace database with the append-only triggers dropped."""
    services.db.dispose()
    conn = RawConnection(services)
    for name in TRIGGERS:
        conn.drop_trigger(name)
    return conn


def rewrite(conn: RawConnection, edit: Callable[[int, str], str | None]) -> int:
    """Apply ``edit(seq, body) -> new body or None (drop the event)`` to every event, then
    renumber and recompute the whole chain; returns the new last sequence number."""
    rows = conn.execute("SELECT seq, body FROM audit_events ORDER BY seq").fetchall()
    conn.execute("DELETE FROM audit_events")
    prev, seq = GENESIS, 0
    for old_seq, body in rows:
        new = edit(old_seq, body)
        if new is None:
            continue
        seq += 1
        digest = chain_hash(seq, prev, new)
        conn.execute("INSERT INTO audit_events (seq, body, prev_hash, hash) VALUES (?,?,?,?)",
                     (seq, new, prev, digest))
        prev = digest
    return seq


def resign(conn: RawConnection, key: AuditKey, latest_file: Path, every: int) -> None:
    """Delete every checkpoint and sign new ones with ``key`` wherever verification expects
    one (every ``every`` events, exports, approvals, seals) and at the end, rewriting the copy
    outside the database too: the forger's best effort."""
    conn.execute("DELETE FROM audit_checkpoints")
    heads = conn.execute("SELECT seq, hash FROM audit_events ORDER BY seq").fetchall()
    marked = {s for (s,) in conn.execute(
        "SELECT seq FROM audit_events WHERE result = 'ok' AND action IN "
        f"({','.join('?' * len(CHECKPOINTED_ACTIONS))})", CHECKPOINTED_ACTIONS)}
    wanted = [(s, h) for s, h in heads if s % every == 0 or s in marked] + [heads[-1]]
    cp = None
    for seq, head in dict(wanted).items():
        cp = make_checkpoint(key, seq, head, "2026-01-01T00:00:00+00:00", "ws")
        conn.execute("INSERT INTO audit_checkpoints (seq, head_hash, ts, workstation,"
                     " key_id, signature) VALUES (?,?,?,?,?,?)",
                     (cp.seq, cp.head_hash, cp.ts, cp.workstation, cp.key_id, cp.signature))
    latest_file.write_text(json.dumps(checkpoint_to_json(cp)), encoding="utf-8")


def swap_key(keys_dir: Path) -> AuditKey:
    """Replace the workspace's audit key with the attacker's own."""
    private = Ed25519PrivateKey.generate()
    (keys_dir / KEY_NAME).unlink()
    _store(keys_dir / KEY_NAME, private, OwnerOnlyFile())
    (keys_dir / PUBLIC_NAME).write_bytes(public_pem(private.public_key()))
    return AuditKey(private)


def reason_edit(old: str, new: str) -> Callable[[int, str], str]:
    """An edit that rewrites one reason text wherever it appears."""
    return lambda _seq, body: body.replace(f'"reason":"{old}"', f'"reason":"{new}"')


def export_lines(folder: Path) -> list[dict]:
    """The event records of an export's events.jsonl."""
    text = (folder / "events.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def write_lines(folder: Path, records: list[dict]) -> None:
    (folder / "events.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def rechain(records: list[dict]) -> list[dict]:
    """Renumber and recompute the chain of export records."""
    prev, out = GENESIS, []
    for seq, rec in enumerate(records, 1):
        digest = chain_hash(seq, prev, rec["body"])
        out.append({"seq": seq, "prev_hash": prev, "hash": digest, "body": rec["body"]})
        prev = digest
    return out


def resign_export(folder: Path, key: AuditKey, *, checkpoints_with: AuditKey | None = None
                  ) -> None:
    """Sign an altered export again as its key holder would: checkpoints (when
    ``checkpoints_with`` is given) at the same sequence numbers over the new chain, the
    public key, file hashes and the manifest."""
    records = export_lines(folder)
    heads = {r["seq"]: r["hash"] for r in records}
    if checkpoints_with is not None:
        old = [json.loads(x) for x in
               (folder / "checkpoints.jsonl").read_text(encoding="utf-8").splitlines()]
        new = [checkpoint_to_json(make_checkpoint(checkpoints_with, c["seq"], heads[c["seq"]],
                                                  c["ts"], c["workstation"]))
               for c in old if c["seq"] in heads]
        (folder / "checkpoints.jsonl").write_text(
            "".join(json.dumps(c, sort_keys=True) + "\n" for c in new), encoding="utf-8")
        last = records[-1]["seq"]
        closing = checkpoint_to_json(make_checkpoint(checkpoints_with, last, heads[last],
                                                     "2026-01-01T00:00:00+00:00", "ws"))
        (folder / "checkpoint.json").write_text(json.dumps(closing, indent=2), encoding="utf-8")
        (folder / "audit_public_key.pem").write_bytes(checkpoints_with.public_pem())
    resign_manifest(folder, key, events=len(records), key_id=key.key_id)


def resign_manifest(folder: Path, key: AuditKey, *, drop: tuple[str, ...] = (),
                    **changes: object) -> None:
    """Sign an export's manifest again over its files as they now are (what the exporting
    key's holder can do): the files named in ``drop`` are deleted, and they and any listed
    file that is gone are left out; ``changes`` replace manifest fields."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest.pop("signature", None)
    manifest.update(changes)
    for name in list(manifest["files"]):
        path = folder / name
        if name in drop:
            path.unlink(missing_ok=True)
        if not path.exists():
            del manifest["files"][name]
            continue
        data = path.read_bytes()
        manifest["files"][name] = {"sha256": hashlib.sha256(data).hexdigest(),
                                   "length": len(data)}
    manifest["signature"] = key.sign(canonical_bytes(manifest))
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
