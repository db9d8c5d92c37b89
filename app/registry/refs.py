"""Names of lines and versions, and the hashes that signatures over a version bind."""

from __future__ import annotations

import re

from app.core.canonical import canonical_json, sha256_hex
from app.core.errors import UsageError

KINDS = ("classifier", "regressor", "anomaly")
#: ``record_type`` of the e-signatures over a model version.
RECORD_TYPE = "model-version"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,99}$")
#: Versions travel in u32 registers and signed 32-bit PLC tags (app.packages MAX_COUNTER).
MAX_VERSION = 2**31 - 1
_REF = re.compile(r"^(?P<line>[^:]+):v?(?P<version>\d+)$")


def check_line_name(name: str) -> str:
    """A valid, normalised line name; raises UsageError."""
    name = name.strip().lower()
    if not _NAME.match(name):
        raise UsageError(f"model line {name!r}: use lower-case letters, digits, '.', '_', '-'")
    return name


def parse_ref(ref: str) -> tuple[str, int]:
    """``line:v3`` or ``line:3`` -> (line, 3); raises UsageError."""
    m = _REF.match(ref.strip())
    if not m:
        raise UsageError(f"name a model version as LINE:vN, e.g. pump-7:v3 (not {ref!r})")
    if len(m["version"]) > 10 or int(m["version"]) > MAX_VERSION:
        raise UsageError(f"version {m['version']} of {ref!r} is out of range (at most "
                         f"{MAX_VERSION})")
    return m["line"].lower(), int(m["version"])


def record_hash(record: dict) -> str:
    """SHA-256 of the canonical JSON of a version record: what signatures bind."""
    return sha256_hex(canonical_json(record).encode("utf-8"))


def release_hash(body: dict) -> str:
    """SHA-256 of the canonical JSON of a release (package manifest) body."""
    return sha256_hex(canonical_json(body).encode("utf-8"))
