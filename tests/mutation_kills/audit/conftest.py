"""Fixture of the audit kill tests: a fresh audit key held in memory."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.audit.keys import AuditKey


@pytest.fixture
def key() -> AuditKey:
    return AuditKey(Ed25519PrivateKey.generate())
