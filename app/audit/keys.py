"""The workstation's Ed25519 audit key, which signs checkpoints and exports."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app.core.errors import IntegrityError
from app.store.durable import durable_write

PRIVATE_NAME = "audit_ed25519.pem"
PUBLIC_NAME = "audit_ed25519.pub.pem"


def key_id_of(public: Ed25519PublicKey) -> str:
    """Short, stable identifier of a public key: first 16 hex digits of SHA-256 of its bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


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
    """The private audit key of this workstation, kept in the workspace's ``keys`` folder."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        self.public = private.public_key()
        self.key_id = key_id_of(self.public)

    @classmethod
    def load_or_create(cls, keys_dir: Path) -> AuditKey:
        """Load the key, creating and storing a new one on the first run."""
        path = keys_dir / PRIVATE_NAME
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(key, Ed25519PrivateKey):
                raise IntegrityError(f"{path} does not hold an Ed25519 key")
            return cls(key)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
        durable_write(path, pem)
        durable_write(keys_dir / PUBLIC_NAME, public_pem(private.public_key()))
        return cls(private)

    def sign(self, message: bytes) -> str:
        """Hex Ed25519 signature of ``message``."""
        return self._private.sign(message).hex()

    def public_pem(self) -> bytes:
        """The public half as PEM."""
        return public_pem(self.public)
