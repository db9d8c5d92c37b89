"""The audit key file read back: an edited or foreign key file is refused, naming the file and
what is wrong with it, never loaded as a key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.audit.keys import KEY_FORMAT, KEY_NAME, AuditKey
from app.core.errors import IntegrityError


def _edit(keys: Path, **changes: object) -> Path:
    AuditKey.load_or_create(keys)
    path = keys / KEY_NAME
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc.update(changes)
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def _refusal(keys: Path) -> str:
    with pytest.raises(IntegrityError) as err:
        AuditKey.load_or_create(keys)
    return str(err.value)


def test_a_key_file_of_another_format_is_named_with_that_format(tmp_path):
    path = _edit(tmp_path / "keys", format="plantml-audit-key/0")
    assert KEY_FORMAT != "plantml-audit-key/0"
    assert _refusal(tmp_path / "keys") == (f"{path} is not a readable PlantML audit key "
                                            "(format 'plantml-audit-key/0')")


def test_a_private_half_with_a_character_outside_base64_is_refused(tmp_path):
    # Lenient decoding would drop the stray character and load the key as if untouched.
    keys = tmp_path / "keys"
    AuditKey.load_or_create(keys)
    doc = json.loads((keys / KEY_NAME).read_text(encoding="utf-8"))
    private = str(doc["private"])
    path = _edit(keys, private=private[:8] + "*" + private[8:])
    message = _refusal(keys)
    assert message.startswith(f"{path} is not a readable PlantML audit key (")


def test_a_key_file_whose_recorded_id_was_changed_is_refused(tmp_path):
    path = _edit(tmp_path / "keys", key_id="0" * 16)
    assert _refusal(tmp_path / "keys") == f"{path}: the key does not match its recorded id"
