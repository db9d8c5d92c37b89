"""Why a package was refused: one IntegrityError subclass with a machine-readable reason code."""

from __future__ import annotations

from app.core.errors import IntegrityError

#: Every reason code a refusal may carry; front ends may map them to help texts.
REASONS = (
    "unreadable",   # the file could not be read (missing, I/O error, stick pulled)
    "size",         # package, member or total size over its cap
    "format",       # not a zip, corrupt zip, encrypted or unsupported member
    "path",         # member name unsafe: traversal, absolute, backslash, drive, link, dir
    "zip_bomb",     # compression ratio over its cap
    "manifest",     # manifest.json missing, not strict JSON or not the declared shape
    "signature",    # a signature does not verify or is malformed
    "unknown_key",  # a signature names a key the trust store does not hold
    "revoked_key",  # a signature was made with a revoked key
    "role",         # the key may not sign in the role the signature claims
    "threshold",    # not one engineer and one approver from distinct users and keys
    "expired",      # past expires_at and no override given
    "hardware",     # the target's hardware id is not allowed by the package
    "counter",      # release counter not above the trusted counter of the model line
    "file_set",     # members differ from the declared files (extra, missing, renamed)
    "length",       # a payload's length differs from the declared length
    "hash",         # a payload's SHA-256 differs from the declared hash
    "onnx",         # the model is not loadable ONNX or references external data
    "golden",       # a golden input without its expected output, or no golden data at all
)


class PackageRefused(IntegrityError):
    """A package failed verification; ``reason_code`` is one of :data:`REASONS`."""

    def __init__(self, reason_code: str, message: str) -> None:
        if reason_code not in REASONS:
            raise ValueError(f"unknown reason code {reason_code!r}")
        super().__init__(message)
        self.reason_code = reason_code
