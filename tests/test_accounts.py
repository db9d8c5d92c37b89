"""Accounts: T24 (lockout, unknown users, no stored passwords), T26 (Argon2id, rehash),
and the electronic-signature primitive (T25's signature half)."""

from __future__ import annotations

import sqlite3

import argon2
import pytest

from app.core.errors import AuthenticationError, Conflict, IntegrityError, UsageError
from app.core.roles import Action, Role
from app.security.passwords import HashParams
from app.services import open_services
from app.services.audit import AuditFilter
from tests.conftest import FAST, password_of


def test_first_run_creates_the_admin_once(services):
    assert services.auth.needs_admin()
    admin = services.auth.bootstrap_admin(username="Admin", password=password_of("admin"))
    assert admin.username == "admin" and Role.ADMIN in admin.roles
    with pytest.raises(Conflict):
        services.auth.bootstrap_admin(username="other", password=password_of("other"))


def test_t24_lockout_after_five_failures_is_audited_and_admin_unlocks(services, people):
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            services.auth.login(username="operator1", password="wrong-password")
    assert services.auth.login(username="operator1", password=password_of("operator1"))
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            services.auth.login(username="operator1", password="wrong-password")
    with pytest.raises(AuthenticationError):
        services.auth.login(username="operator1", password=password_of("operator1"))
    locks = services.audit.show(people["admin"], AuditFilter(action="user.lock"))
    assert [e.object for e in locks] == ["user:operator1"]
    services.users.unlock(people["admin"], username="operator1", reason="called the desk")
    assert services.auth.login(username="operator1", password=password_of("operator1"))
    assert services.audit.show(people["admin"], AuditFilter(action="user.unlock"))


def test_t24_unknown_user_gets_the_same_message_and_the_same_hashing_work(services, people,
                                                                          monkeypatch):
    # The time an answer takes is the Argon2 verification it spends (hundreds of ms at the
    # shipped cost, beside a few ms of database work): the check counts that work and its cost
    # parameters instead of timing a shared, noisy machine.
    hashed: list[argon2.Parameters] = []
    real_verify = argon2.PasswordHasher.verify

    def counting_verify(self, stored, password):
        text = stored if isinstance(stored, str) else stored.decode()
        hashed.append(argon2.extract_parameters(text))
        return real_verify(self, stored, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", counting_verify)

    def attempt(name: str) -> tuple[str, list[argon2.Parameters]]:
        hashed.clear()
        with pytest.raises(AuthenticationError) as err:
            services.auth.login(username=name, password="wrong-password")
        return str(err.value), list(hashed)

    services.users.unlock(people["admin"], username="engineer1")
    known = [attempt("engineer1"), attempt("engineer1")]
    unknown = [attempt("nobody0"), attempt("nobody1")]
    assert {m for m, _ in known} == {m for m, _ in unknown}
    assert all(len(work) == 1 for _, work in known + unknown), "one Argon2 check per attempt"
    cost = known[0][1][0]
    assert all(work == [cost] for _, work in known + unknown), \
        "an unknown name is checked at the same Argon2 cost as a real account"


def test_t24_password_never_stored_or_logged(home, caplog):
    secret = "Needle-In-The-Haystack-42"
    with open_services(home, create=True, hash_params=FAST) as sv:
        admin = sv.auth.bootstrap_admin(username="admin", password=secret + "a")
        sv.users.add(admin, username="eng", password=secret, roles=["engineer"])
        sv.auth.login(username="eng", password=secret)
        with pytest.raises(AuthenticationError):
            sv.auth.login(username="eng", password=secret + "x")
        eng = sv.auth.login(username="eng", password=secret)
        sv.users.change_own_password(eng, old_password=secret, new_password=secret + "b")
    needle = secret.encode()
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert needle not in data, path
            assert secret.encode("utf-16-le") not in data, path
    assert secret not in caplog.text


def test_t26_only_argon2id_hashes_with_salts(services, people):
    conn = sqlite3.connect(services.paths.db)
    hashes = [h for (h,) in conn.execute("SELECT password_hash FROM users")]
    assert len(hashes) == len(people)
    for h in hashes:
        assert h.startswith("$argon2id$v=19$m=1024,t=1,p=1$"), h
    salts = {h.split("$")[4] for h in hashes}
    assert len(salts) == len(hashes)


def test_t26_raised_parameters_rehash_at_next_login(home):
    with open_services(home, create=True, hash_params=FAST) as sv:
        admin = sv.auth.bootstrap_admin(username="admin", password=password_of("admin"))
        sv.settings.set(admin, key="security.argon2",
                        value={"time_cost": 2, "memory_cost": 2048, "parallelism": 1})
    with open_services(home) as sv:
        sv.auth.login(username="admin", password=password_of("admin"))
        stored = sqlite3.connect(sv.paths.db).execute(
            "SELECT password_hash FROM users WHERE username='admin'").fetchone()[0]
        assert stored.startswith("$argon2id$v=19$m=2048,t=2,p=1$")
        sv.auth.login(username="admin", password=password_of("admin"))


def test_signature_requires_reentered_password_and_binds_the_record(services, people):
    aud = people["auditor"]
    with pytest.raises(AuthenticationError):
        services.auth.esign(aud, password="not-my-password", action=Action.AUDIT_EXPORT,
                            meaning="reviewed", reason="r", record_type="audit-export",
                            record_id="A", record_hash="a" * 64)
    with pytest.raises(UsageError):
        services.auth.esign(aud, password=password_of("auditor1"), action=Action.AUDIT_EXPORT,
                            meaning="reviewed", reason="  ", record_type="audit-export",
                            record_id="A", record_hash="a" * 64)
    sig = services.auth.esign(aud, password=password_of("auditor1"), action=Action.AUDIT_EXPORT,
                              meaning="reviewed", reason="monthly", record_type="audit-export",
                              record_id="A", record_hash="a" * 64)
    ok = services.auth.verify_signature(aud, signature_id=sig.signature_id,
                                        record_type="audit-export", record_id="A",
                                        record_hash="a" * 64)
    assert ok.username == "auditor1"
    with pytest.raises(IntegrityError, match="another record"):
        services.auth.verify_signature(aud, signature_id=sig.signature_id,
                                       record_type="audit-export", record_id="B",
                                       record_hash="b" * 64)
    # Copy the signature row onto record B in the database: the signature no longer verifies.
    conn = sqlite3.connect(services.paths.db)
    conn.execute("INSERT INTO signatures (user_id, key_id, meaning, reason, record_type, "
                 "record_id, record_hash, signed_at, signature) SELECT user_id, key_id, meaning, "
                 "reason, record_type, 'B', ?, signed_at, signature FROM signatures WHERE id=?",
                 ("b" * 64, sig.signature_id))
    conn.commit()
    copied = conn.execute("SELECT max(id) FROM signatures").fetchone()[0]
    with pytest.raises(IntegrityError, match="does not verify"):
        services.auth.verify_signature(aud, signature_id=copied, record_type="audit-export",
                                       record_id="B", record_hash="b" * 64)


def test_signing_key_survives_own_password_change_and_is_replaced_on_reset(services, people):
    aud = people["auditor"]
    services.users.change_own_password(aud, old_password=password_of("auditor1"),
                                       new_password="a-brand-new-password")
    sig = services.auth.esign(aud, password="a-brand-new-password", action=Action.AUDIT_EXPORT,
                              meaning="reviewed", reason="r", record_type="t", record_id="1",
                              record_hash="c" * 64)
    services.users.set_password(people["admin"], username="auditor1", password="reset-by-admin")
    # 15.3: the password the administrator set signs nothing; the user chooses their own,
    # which makes the new key.
    with pytest.raises(AuthenticationError):
        services.auth.esign(aud, password="reset-by-admin", action=Action.AUDIT_EXPORT,
                            meaning="reviewed", reason="r", record_type="t", record_id="2",
                            record_hash="d" * 64)
    aud = services.auth.complete_reset(username="auditor1", temporary_password="reset-by-admin",
                                       new_password="the-auditors-own-one")
    sig2 = services.auth.esign(aud, password="the-auditors-own-one", action=Action.AUDIT_EXPORT,
                               meaning="reviewed", reason="r", record_type="t", record_id="2",
                               record_hash="d" * 64)
    assert sig.key_id != sig2.key_id
    assert services.auth.verify_signature(aud, signature_id=sig.signature_id, record_type="t",
                                          record_id="1", record_hash="c" * 64)
    with pytest.raises(AuthenticationError):
        services.users.change_own_password(aud, old_password="wrong", new_password="whatever-1")


def test_short_password_and_bad_names_are_refused(services, people):
    with pytest.raises(UsageError, match="at least"):
        services.users.add(people["admin"], username="x1", password="short", roles=["engineer"])
    with pytest.raises(UsageError, match="not allowed"):
        services.users.add(people["admin"], username="bad name!", password="long-enough-pw",
                           roles=["engineer"])
    with pytest.raises(UsageError, match="unknown role"):
        services.users.add(people["admin"], username="x2", password="long-enough-pw",
                           roles=["wizard"])


def test_last_admin_cannot_drop_admin_role(services, people):
    with pytest.raises(UsageError, match="last administrator"):
        services.users.set_roles(people["admin"], username="admin", roles=["auditor"])


def test_hash_params_object_roundtrip():
    assert HashParams.from_setting(FAST.__dict__) == FAST
