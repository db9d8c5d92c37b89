"""Issue 11: several workstations on one registry (a PostgreSQL server, or one SQLite file):
one audit chain, each workstation signing checkpoints with its own key, verified against the
registry's list of audit keys; protections on PostgreSQL; a lost connection."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import make_url, text

from app.audit.checkpoints import make_checkpoint
from app.audit.keys import AuditKey
from app.cli import main as cli_main
from app.core import faults
from app.core.errors import RegistryUnreachable
from app.services import open_services
from app.services.audit import AuditFilter
from app.store import protections_pg
from tests.audit.relay import Relay
from tests.audit.tamper import RawConnection
from tests.backends import open_workstation
from tests.conftest import password_of

ROOT = Path(__file__).resolve().parents[2]


def test_workstations_share_one_chain_each_signing_with_its_own_key(shared_url, tmp_path):
    with open_workstation(tmp_path, shared_url, "ws-a") as a:
        admin = a.auth.bootstrap_admin(username="admin", password=password_of("admin"))
        with open_workstation(tmp_path, shared_url, "ws-b", blob_folder=None) as b:
            assert b.joined and b.audit.key_id != a.audit.key_id
            # Accounts and settings are shared; the sign-in is this workstation's own.
            me = b.auth.login(username="admin", password=password_of("admin"))
            for i in range(6):
                a.settings.set(admin, key="security.idle_lock_minutes", value=10 + i)
                b.settings.set(me, key="security.idle_lock_minutes", value=20 + i)
            assert a.settings.get("security.idle_lock_minutes") == 25
            # Blobs go to the one shared folder, named by their content.
            digest = b.ctx.blobs.put_bytes(b"shared")
            assert a.ctx.blobs.read_bytes(digest) == b"shared"
            assert a.ctx.blobs.root == b.ctx.blobs.root == (tmp_path / "shared-blobs").resolve()
            events = a.audit.show(admin, AuditFilter(limit=10_000, newest_first=False))
            assert [e.seq for e in events] == list(range(1, len(events) + 1))
            assert {e.workstation for e in events} >= {"ws-a", "ws-b"}
            [reg] = [e for e in events if e.action == "audit.key.register"]
            assert reg.new["key_id"] == b.audit.key_id and reg.workstation == "ws-b"
            with a.db.engine.connect() as conn:
                signed = set(conn.execute(text(
                    "SELECT workstation, key_id FROM audit_checkpoints")).all())
            assert signed == {("ws-a", a.audit.key_id), ("ws-b", b.audit.key_id)}
            for sv, who in ((a, admin), (b, me)):
                report = sv.audit.verify(who)
                assert report.ok, report.problem
                assert any("2 workstation audit keys" in n for n in report.notes)


def test_a_key_slipped_into_the_list_or_a_checkpoint_by_an_unlisted_key_is_refused(
        shared_url, tmp_path):
    with open_workstation(tmp_path, shared_url, "ws-a") as a:
        admin = a.auth.bootstrap_admin(username="admin", password=password_of("admin"))
        for i in range(4):
            a.settings.set(admin, key="security.idle_lock_minutes", value=10 + i)
        top = a.audit.verify(admin).last_seq
        intruder = AuditKey(Ed25519PrivateKey.generate())
        conn = RawConnection(a)
        cp = make_checkpoint(intruder, top, "f" * 64, "2026-01-01T00:00:00+00:00", "rogue")
        conn.execute("INSERT INTO audit_checkpoints (seq, head_hash, ts, workstation, key_id, "
                     "signature) VALUES (?,?,?,?,?,?)", (cp.seq + 100, cp.head_hash, cp.ts,
                                                         cp.workstation, cp.key_id,
                                                         cp.signature))
        report = a.audit.verify(admin)
        assert not report.ok and f"sequence {top + 100} is not signed by" in report.problem
        conn.drop_trigger("audit_checkpoints_no_delete")
        conn.execute("DELETE FROM audit_checkpoints WHERE key_id = ?", (intruder.key_id,))
        # Listing the key without the trail's registration event does not make it trusted.
        conn.execute("INSERT INTO audit_keys (key_id, workstation, public_key, registered_at) "
                     "VALUES (?,?,?,?)", (intruder.key_id, "rogue", intruder.public_pem(),
                                          "2026-01-01T00:00:00+00:00"))
        conn.close()
        report = a.audit.verify(admin)
        assert not report.ok
        assert intruder.key_id in report.problem and "no event of the trail" in report.problem


def test_concurrent_workstations_lose_nothing_and_keep_one_chain(shared_url, tmp_path):
    """The suite's small run of bench/bench_shared_registry.py: 4 processes x 50 actions."""
    spec = importlib.util.spec_from_file_location("bench_shared_registry",
                                                  ROOT / "bench" / "bench_shared_registry.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_shared_registry", bench)
    spec.loader.exec_module(bench)
    fig = bench.run(shared_url, tmp_path, workers=4, actions=50)
    assert (fig["acknowledged"], fig["failed"], fig["lost"], fig["doubled_actions"]) == \
        (200, 0, 0, 0), fig["failures"]
    assert (fig["duplicate_seq"], fig["missing_seq"]) == (0, 0)
    assert fig["verify_ok"], fig["verify"]
    assert fig["checkpoints"] >= 200 // bench.INTERVAL and fig["checkpoint_keys"] >= 4


# --- PostgreSQL only -------------------------------------------------------------------


@pytest.fixture
def pg_plant(pg_database, tmp_path):
    sv = open_workstation(tmp_path, pg_database, "ws-a")
    admin = sv.auth.bootstrap_admin(username="admin", password=password_of("admin"))
    try:
        yield sv, admin
    finally:
        sv.close()


def test_pg_triggers_refuse_edits_deletes_and_truncate(pg_plant):
    import psycopg

    sv, _admin = pg_plant
    conn = RawConnection(sv)
    try:
        for sql, message in (
                ("UPDATE audit_events SET body = body", "append-only"),
                ("DELETE FROM audit_events", "append-only"),
                ("TRUNCATE audit_events CASCADE", "append-only"),
                ("TRUNCATE audit_checkpoints", "append-only"),
                ("TRUNCATE signatures CASCADE", "append-only"),  # no row yet: TRUNCATE
                ("UPDATE user_keys SET public_key = public_key", "cannot be changed"),
                ("DELETE FROM user_keys", "never deleted"),
                ("DELETE FROM audit_keys", "append-only")):
            with pytest.raises(psycopg.errors.RestrictViolation, match=message):
                conn.execute(sql)
    finally:
        conn.close()


@pytest.mark.parametrize("damage", ["drop", "disable", "function"])
def test_pg_a_removed_protection_fails_verify_and_is_restored_at_start(pg_plant, damage):
    sv, admin = pg_plant
    conn = RawConnection(sv)
    if damage == "drop":
        conn.drop_trigger("audit_events_no_update")
    elif damage == "disable":
        conn.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update")
    else:
        conn.execute(f"CREATE OR REPLACE FUNCTION {protections_pg.FUNCTION}() RETURNS trigger "
                     "LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$")
    conn.close()
    report = sv.audit.verify(admin)
    assert not report.ok and "audit_events_no_update" in report.problem
    home = sv.paths.home
    sv.close()
    with open_services(home) as again:
        assert not _missing(again)
        alarms = again.audit.show(admin, AuditFilter(action="schema.protection"))
        assert alarms[0].result == "alarm" and "restored" in alarms[0].reason
        assert again.audit.verify(admin).ok


def _missing(sv) -> list[str]:
    with sv.db.engine.connect() as conn:
        return protections_pg.missing(conn)


def test_pg_a_lost_connection_is_one_sentence_and_loses_nothing_acknowledged(
        pg_database, tmp_path, capsys):
    url = make_url(pg_database)
    relay = Relay((url.host or "127.0.0.1", url.port or 5432))
    try:
        via = url.set(host="127.0.0.1", port=relay.port).render_as_string(hide_password=False)
        with open_workstation(tmp_path, via, "ws-a") as sv:
            admin = sv.auth.bootstrap_admin(username="admin", password=password_of("admin"))
            sv.settings.set(admin, key="security.idle_lock_minutes", value=11)
            relay.cut()
            with pytest.raises(RegistryUnreachable) as err:
                sv.settings.set(admin, key="security.idle_lock_minutes", value=12)
            message = str(err.value)
            assert message.startswith(f"the registry at 127.0.0.1:{relay.port}/"
                                      f"{url.database} cannot be reached: ")
            assert "\n" not in message and "Traceback" not in message
            assert not sv.health.read_only
            relay.resume()
            # Cut while committing: the change and its audit row are both gone.
            faults.install(_CutAtCommit(relay))
            with pytest.raises(RegistryUnreachable):
                sv.settings.set(admin, key="security.idle_lock_minutes", value=13)
            faults.install(None)
            relay.resume()
            sv.settings.set(admin, key="security.idle_lock_minutes", value=14)
            assert sv.settings.get("security.idle_lock_minutes") == 14
            changes = sv.audit.show(admin, AuditFilter(action="settings.change"))
            assert [json.dumps(e.new) for e in reversed(changes)] == ["11", "14"]
            assert sv.audit.verify(admin).ok
        # The CLI says the same one sentence, exit code 8, no traceback.
        relay.cut()
        assert cli_main.main(["--home", str(tmp_path / "ws-a"), "user", "list"]) == 8
        err = capsys.readouterr().err
        assert "cannot be reached" in err and "Traceback" not in err
    finally:
        relay.close()


class _CutAtCommit(faults.FaultPlan):
    """Pulls the cable just before the transaction's COMMIT reaches the server."""

    def __init__(self, relay: Relay) -> None:
        super().__init__(kinds=("commit",))
        self.relay = relay

    def step(self, kind: str, detail: str) -> None:
        if kind == "commit":
            self.relay.cut()
