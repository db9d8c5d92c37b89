"""The workstation's Ed25519 audit key, which signs checkpoints and exports."""

from __future__ import annotations

import base64
import hashlib
import json
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.audit.keyprotect import (
    KeyProtector,
    default_protector,
    make_private_dir,
    protector_named,
    tighten,
)
from app.core.errors import IntegrityError
from app.store.durable import durable_write

#: The protected private key (JSON: format, protector, key id, protected key bytes).
KEY_NAME = "audit_ed25519.key"
KEY_FORMAT = "plantml-audit-key-v2"
#: Where PlantML before 0.2 kept the private key, unprotected; moved on first open.
PRIVATE_NAME = "audit_ed25519.pem"
PUBLIC_NAME = "audit_ed25519.pub.pem"


def key_id_of(public: Ed25519PublicKey) -> str:
    """Short, stable identifier of a public key: first 16 hex digits of SHA-256 of its bytes."""
    return fingerprint_of(public)[:16]


def fingerprint_of(public: Ed25519PublicKey) -> str:
    """The full SHA-256 (hex) of the raw public key; its first 16 digits are the key id."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_pem(public: Ed25519PublicKey) -> bytes:
    """PEM (SubjectPublicKeyInfo) encoding of ``public``."""
    return public.public_bytes(serialization.Encoding.PEM,
                               serialization.PublicFormat.SubjectPublicKeyInfo)


def load_public_pem(data: bytes, source: str) -> Ed25519PublicKey:
    """Parse an Ed25519 public key; raises IntegrityError naming ``source`` if it is not one."""
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError as exc:
        raise IntegrityError(f"{source} is not a readable public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise IntegrityError(f"{source} is not an Ed25519 public key")
    return key


def verify_signature(public: Ed25519PublicKey, signature_hex: str, message: bytes) -> bool:
    """True if ``signature_hex`` is a valid signature of ``message``."""
    try:
        public.verify(bytes.fromhex(signature_hex), message)
    except (InvalidSignature, ValueError):
        return False
    return True


class AuditKey:
    """The private audit key of this workstation, kept protected in the workspace's ``keys``
    folder (:mod:`app.audit.keyprotect`)."""

    def __init__(self, private: Ed25519PrivateKey, *, protector: str = "",
                 changes: tuple[str, ...] = ()) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id_of(self.public)
        self.protector = protector
        #: What loading had to repair (a legacy clear PEM, loose permissions), for the audit.
        self.changes = changes

    @classmethod
    def load_or_create(cls, keys_dir: Path, protector: KeyProtector | None = None) -> AuditKey:
        """Load the key, creating and storing a new one on the first run; a key left in the
        clear by an older PlantML is moved under protection, and loose permissions are
        tightened (both reported in :attr:`changes`)."""
        keys_dir = Path(keys_dir)
        changes = make_private_dir(keys_dir)
        path, legacy = keys_dir / KEY_NAME, keys_dir / PRIVATE_NAME
        if path.exists():
            changes += tighten(path, 0o600)
            key = cls._load(path)
            if legacy.exists():
                legacy.unlink()
                changes.append(f"{PRIVATE_NAME}: an unprotected copy was removed")
            return cls(key._private, protector=key.protector, changes=tuple(changes))
        protector = protector or default_protector()
        if legacy.exists():
            private = _load_clear_pem(legacy)
            mode = stat.S_IMODE(legacy.stat().st_mode)
            changes.append(f"{PRIVATE_NAME} (mode {mode:04o}, unprotected) moved under "
                           f"{protector.name} protection")
        else:
            private = Ed25519PrivateKey.generate()
        _store(path, private, protector)
        durable_write(keys_dir / PUBLIC_NAME, public_pem(private.public_key()))
        if legacy.exists():
            legacy.unlink()
        return cls(private, protector=protector.name, changes=tuple(changes))

    @classmethod
    def _load(cls, path: Path) -> AuditKey:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            if doc.get("format") != KEY_FORMAT:
                raise ValueError(f"format {doc.get('format')!r}")
            protector = protector_named(str(doc["protector"]))
            raw = protector.unprotect(base64.b64decode(doc["private"], validate=True))
            private = Ed25519PrivateKey.from_private_bytes(raw)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"{path} is not a readable PlantML audit key ({exc})") from exc
        key = cls(private, protector=protector.name)
        if doc.get("key_id") != key.key_id:
            raise IntegrityError(f"{path}: the key does not match its recorded id")
        return key

    def sign(self, message: bytes) -> str:
        """Hex Ed25519 signature of ``message``."""
        return self._private.sign(message).hex()

    def public_pem(self) -> bytes:
        """The public half as PEM."""
        return public_pem(self.public)


def _load_clear_pem(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise IntegrityError(f"{path} does not hold an Ed25519 key")
    return key


def _store(path: Path, private: Ed25519PrivateKey, protector: KeyProtector) -> None:
    raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                serialization.NoEncryption())
    doc = {"format": KEY_FORMAT, "protector": protector.name,
           "key_id": key_id_of(private.public_key()),
           "private": base64.b64encode(protector.protect(raw)).decode("ascii")}
    durable_write(path, json.dumps(doc, indent=2).encode("utf-8"), mode=0o600)
