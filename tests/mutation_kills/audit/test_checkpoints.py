"""The checkpoint copy kept outside the database: none is no copy, a damaged one is ignored
with one warning naming the file and what is wrong, an intact one reads back."""

from __future__ import annotations

import json
import logging

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.checkpoints import checkpoint_to_json, make_checkpoint, read_latest_file
from app.audit.keys import AuditKey


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
