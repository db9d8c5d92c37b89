"""15.1: the audit private key is protected at rest (owner-only file, or DPAPI on Windows),
and a key left in the clear by an older PlantML is moved under protection, audited."""

from __future__ import annotations

import os
import stat
import sys

import pytest
from cryptography.hazmat.primitives import serialization

from app.audit.keyprotect import Dpapi, default_protector
from app.audit.keys import KEY_NAME, PRIVATE_NAME, AuditKey
from app.services import open_services
from app.services.audit import AuditFilter
from tests.conftest import FAST, password_of

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def _mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _no_clear_private_key(keys_dir) -> None:
    for path in keys_dir.iterdir():
        assert b"PRIVATE KEY" not in path.read_bytes(), path


@posix_only
def test_fresh_workspace_keeps_the_key_owner_only(services):
    keys = services.paths.keys
    assert _mode(keys) == 0o700
    assert _mode(keys / KEY_NAME) == 0o600
    assert not (keys / PRIVATE_NAME).exists()
    _no_clear_private_key(keys)


def test_the_protector_is_the_platforms(services):
    assert default_protector().name == ("dpapi" if sys.platform == "win32" else
                                        "owner-only-file")
    reopened = AuditKey.load_or_create(services.paths.keys)
    assert reopened.key_id == services.audit.key_id
    assert reopened.protector == default_protector().name


@posix_only
def test_a_legacy_clear_key_is_moved_under_protection_and_audited(home):
    with open_services(home, create=True, hash_params=FAST) as sv:
        admin = sv.auth.bootstrap_admin(username="admin", password=password_of("admin"))
        sv.users.add(admin, username="aud", password=password_of("aud"), roles=["auditor"])
        key_id = sv.audit.key_id
        keys = sv.paths.keys
    # What PlantML before 0.2 left behind: the private key as a clear PEM, mode 0644.
    key = AuditKey.load_or_create(keys)
    pem = key._private.private_bytes(serialization.Encoding.PEM,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())
    (keys / KEY_NAME).unlink()
    (keys / PRIVATE_NAME).write_bytes(pem)
    os.chmod(keys / PRIVATE_NAME, 0o644)
    os.chmod(keys, 0o755)
    with open_services(home) as sv:
        assert sv.audit.key_id == key_id
        aud = sv.auth.login(username="aud", password=password_of("aud"))
        [event] = sv.audit.show(aud, AuditFilter(action="audit.key.protect"))
        assert "0644" in str(event.new["changes"]) and event.new["audit_key"] == key_id
        assert sv.audit.verify(aud).ok
    assert not (keys / PRIVATE_NAME).exists()
    assert _mode(keys) == 0o700 and _mode(keys / KEY_NAME) == 0o600
    _no_clear_private_key(keys)


@posix_only
def test_loose_permissions_are_tightened_and_audited(services, people):
    keys = services.paths.keys
    services.close()
    os.chmod(keys / KEY_NAME, 0o644)
    with open_services(services.paths.home) as sv:
        [event] = sv.audit.show(people["admin"], AuditFilter(action="audit.key.protect"))
        assert "0644 -> 0600" in str(event.new["changes"])
    assert _mode(keys / KEY_NAME) == 0o600


@pytest.mark.skipif(sys.platform != "win32", reason="DPAPI is a Windows API")
def test_dpapi_round_trip_and_the_blob_is_not_the_key():
    secret = os.urandom(32)
    blob = Dpapi().protect(secret)
    assert secret not in blob
    assert Dpapi().unprotect(blob) == secret
