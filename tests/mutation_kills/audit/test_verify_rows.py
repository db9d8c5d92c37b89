"""What the trail's verification demands when its caller does not say: a workspace trail may
end past its last checkpoint but may not be older than an anchor (an export passes both
rules explicitly); only a folder holding a manifest is taken for an export; and a registry
file verifies by its path as through its database."""

from __future__ import annotations

import pytest

from app.audit.checkpoints import make_checkpoint, stored_checkpoints
from app.audit.export_verify import MANIFEST, is_export
from app.audit.verify import Anchor, verify_database, verify_rows
from app.core.errors import UsageError
from app.services.audit import verify_export_folder
from tests.mutation_kills.audit.test_chain_and_export import ACTIONS, TS, _export_rows


def test_a_trail_may_end_past_its_last_checkpoint_unless_told_otherwise(key):
    rows = _export_rows(ACTIONS)
    assert len(rows) > 3
    cp = make_checkpoint(key, 3, rows[2][3], TS.isoformat(), "ws1")
    assert verify_rows(iter(rows), [cp], key.public).ok
    strict = verify_rows(iter(rows), [cp], key.public, require_checkpoint_at_end=True)
    assert not strict.ok and strict.first_bad_seq == 4
    assert strict.problem == ("the export's closing checkpoint covers 3 events, "
                              f"the file holds {len(rows)}")


def test_an_anchor_newer_than_a_workspace_trail_is_refused_unless_told_otherwise(key):
    rows = _export_rows(ACTIONS)
    later = make_checkpoint(key, 9, "ab" * 32, TS.isoformat(), "ws1")
    anchor = Anchor("a later export", later)
    refused = verify_rows(iter(rows), [], key.public, anchors=[anchor])
    assert not refused.ok and "a later export" in refused.problem
    assert verify_rows(iter(rows), [], key.public, anchors=[anchor], newer_anchors_ok=True).ok


def test_only_a_folder_holding_a_manifest_is_an_export(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert not is_export(empty)
    with pytest.raises(UsageError) as err:
        verify_export_folder(empty)
    assert str(err.value) == f"{empty} is not an audit export (no manifest.json)"
    (empty / MANIFEST).write_text("{}", encoding="utf-8")
    assert is_export(empty)
    assert not is_export(empty / MANIFEST)


def test_a_registry_file_verifies_by_its_path_as_through_its_database(services, people):
    with services.ctx.db.reader() as s:
        checkpoints = stored_checkpoints(s)
    public = services.audit.key.public
    path = services.ctx.db.path
    assert path is not None and checkpoints
    through_db = verify_database(services.ctx.db, checkpoints, public)
    by_path = verify_database(path, checkpoints, public)
    assert through_db.ok and by_path.ok, (through_db.problem, by_path.problem)
    assert by_path.last_seq == through_db.last_seq > 0
    # With no checkpoint to name its signer, the report names this workstation's key.
    unsigned = verify_database(services.ctx.db, [], public)
    assert unsigned.ok and unsigned.key_id == services.audit.key.key_id
