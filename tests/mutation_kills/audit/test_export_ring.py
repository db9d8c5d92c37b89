"""Which keys an export is verified with: its key list must name the key that signed it, and
with pinned keys the report still names the signer (the key an auditor compares)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.export_verify import verify_export
from app.audit.keylist import KEYS, ListedKey, key_list_bytes
from app.audit.keys import AuditKey
from app.core.errors import IntegrityError
from tests.audit.tamper import resign_manifest
from tests.mutation_kills.audit.test_chain_and_export import ACTIONS, _export


def test_a_key_list_without_the_exports_own_key_is_refused_naming_it(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    other = AuditKey(Ed25519PrivateKey.generate())
    (folder / KEYS).write_bytes(key_list_bytes([ListedKey(other.key_id, "ws2", other.public)]))
    resign_manifest(folder, key)
    with pytest.raises(IntegrityError) as err:
        verify_export(folder)
    assert str(err.value) == (f"{folder / KEYS}: does not list the export's own audit key "
                              f"{key.key_id}")


def test_an_export_verified_with_its_pinned_key_names_that_key(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    report = verify_export(folder, key.public_pem())
    assert report.ok, report.problem
    assert report.key_id == key.key_id
    assert not any("shipped in the export" in note for note in report.notes)


def test_an_export_verified_with_its_own_keys_names_each_keys_workstation(tmp_path, key):
    folder = _export(tmp_path / "x", key, ACTIONS, [3])
    report = verify_export(folder)
    assert report.ok, report.problem
    assert (f"verified with the key(s) shipped in the export ({key.key_id} (ws1)); compare "
            "them with the workstations' keys, or pass --key for each") in report.notes
