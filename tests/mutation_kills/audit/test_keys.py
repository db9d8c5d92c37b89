"""The audit key file read back: an edited or foreign key file is refused, naming the file and
what is wrong with it, never loaded as a key; loose permissions and a clear copy left beside
it are repaired and each repair reported."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.keys import KEY_FORMAT, KEY_NAME, PRIVATE_NAME, AuditKey, load_public_pem
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


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX; Windows uses the ACL")
def test_a_loose_key_file_and_folder_are_both_tightened_and_both_reported(tmp_path):
    keys = tmp_path / "keys"
    AuditKey.load_or_create(keys)
    os.chmod(keys, 0o755)
    os.chmod(keys / KEY_NAME, 0o645)
    key = AuditKey.load_or_create(keys)
    assert stat.S_IMODE((keys / KEY_NAME).stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.stat().st_mode) == 0o700
    assert key.changes == ("keys: mode 0755 -> 0700", f"{KEY_NAME}: mode 0645 -> 0600")


def test_a_clear_copy_left_beside_the_protected_key_is_removed_and_reported(tmp_path):
    keys = tmp_path / "keys"
    AuditKey.load_or_create(keys)
    (keys / PRIVATE_NAME).write_text("left by PlantML 0.1\n", encoding="utf-8")
    key = AuditKey.load_or_create(keys)
    assert not (keys / PRIVATE_NAME).exists()
    assert key.changes[-1] == f"{PRIVATE_NAME}: an unprotected copy was removed"


def test_a_key_made_in_memory_names_no_protector():
    assert AuditKey(Ed25519PrivateKey.generate()).protector == ""


def test_a_public_key_of_another_kind_is_named_as_such():
    pem = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(IntegrityError) as err:
        load_public_pem(pem, "the pinned key")
    assert str(err.value) == "the pinned key is not an Ed25519 public key"
