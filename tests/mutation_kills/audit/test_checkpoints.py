"""Checkpoints kept: the copy outside the database (none is no copy, a damaged one is ignored
with one warning naming the file and what is wrong, an intact one reads back, one that cannot
be written is a warning), the JSON form and the stored rows oldest first."""

from __future__ import annotations

import json
import logging

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.audit.checkpoints import (
    PURPOSE,
    checkpoint_to_json,
    make_checkpoint,
    read_latest_file,
    stored_checkpoints,
    write_latest_file,
)
from app.audit.keys import AuditKey
from app.store.schema import AuditCheckpointRow, Base


def test_a_missing_copy_is_none_without_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="app.audit.checkpoints"):
        assert read_latest_file(tmp_path / "latest.json") is None
    assert caplog.records == []


def test_a_damaged_copy_is_ignored_with_a_warning_naming_it(tmp_path, caplog):
    path = tmp_path / "latest.json"
    path.write_text('{"seq": 3}', encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="app.audit.checkpoints"):
        assert read_latest_file(path) is None
    [record] = caplog.records
    # The field it lacks first, as the KeyError names it.
    assert record.getMessage() == f"ignoring unreadable checkpoint copy {path}: 'head_hash'"


def test_an_intact_copy_reads_back(tmp_path):
    cp = make_checkpoint(AuditKey(Ed25519PrivateKey.generate()), 7, "ab" * 32,
                         "2026-01-02T03:04:05+00:00", "ws1")
    path = tmp_path / "latest.json"
    path.write_text(json.dumps(checkpoint_to_json(cp)), encoding="utf-8")
    assert read_latest_file(path) == cp


def test_a_checkpoint_as_json_names_its_purpose():
    cp = make_checkpoint(AuditKey(Ed25519PrivateKey.generate()), 2, "cd" * 32,
                         "2026-01-02T03:04:05+00:00", "ws1")
    assert checkpoint_to_json(cp)["purpose"] == PURPOSE


def test_a_copy_that_cannot_be_written_is_a_warning_naming_the_file_and_the_error(tmp_path,
                                                                                   caplog):
    cp = make_checkpoint(AuditKey(Ed25519PrivateKey.generate()), 2, "cd" * 32,
                         "2026-01-02T03:04:05+00:00", "ws1")
    path = tmp_path / "latest.json"
    path.mkdir()  # a folder where the file should be: no write can replace it
    with caplog.at_level(logging.WARNING, logger="app.audit.checkpoints"):
        write_latest_file(path, cp)
    [record] = caplog.records
    assert record.msg == "could not update %s: %s"
    assert record.args[0] == path and isinstance(record.args[1], OSError)


def test_stored_checkpoints_come_oldest_first_whatever_the_row_order():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    key = AuditKey(Ed25519PrivateKey.generate())
    with Session(engine) as s:
        for seq in (9, 3, 6):
            cp = make_checkpoint(key, seq, "ab" * 32, "2026-01-02T03:04:05+00:00", "ws1")
            s.add(AuditCheckpointRow(seq=cp.seq, head_hash=cp.head_hash, ts=cp.ts,
                                     workstation=cp.workstation, key_id=cp.key_id,
                                     signature=cp.signature))
        s.commit()
        assert [c.seq for c in stored_checkpoints(s)] == [3, 6, 9]
    engine.dispose()
