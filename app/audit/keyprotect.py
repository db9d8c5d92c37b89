"""How the audit private key is protected at rest: DPAPI on Windows, an owner-only file
elsewhere.

The key signs a checkpoint every N events, whoever is working, so it must be usable without
a person typing a secret: it is not encrypted with anyone's password. On Windows, DPAPI
encrypts it with a key Windows keeps for the workstation account, so a copy of the file is
useless on any other account or machine. Elsewhere the key lies in a file only its owner
may read (0600, in a 0700 folder). Neither stops someone who works as that very account;
what makes a stolen or swapped key visible is the public key's anchors outside the
workspace (exports, packages, a pinned key file), see docs/audit-export.md.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from types import ModuleType
from typing import Protocol

from app.core.errors import IntegrityError

#: Mixed into DPAPI so that another program of the same account cannot decrypt the blob
#: just by asking DPAPI (it must know this value too).
_ENTROPY = b"plantml-audit-key-v2"


class KeyProtector(Protocol):
    """Turns the raw private key into what is stored, and back."""

    name: str

    def protect(self, secret: bytes) -> bytes:
        """The bytes to store for ``secret``."""
        ...

    def unprotect(self, stored: bytes) -> bytes:
        """``secret`` back from what :meth:`protect` stored; IntegrityError if impossible."""
        ...


class OwnerOnlyFile:
    """No encryption: the file's permissions (owner only) are the protection."""

    name = "owner-only-file"

    def protect(self, secret: bytes) -> bytes:
        return secret

    def unprotect(self, stored: bytes) -> bytes:
        return stored


class Dpapi:
    """Windows DPAPI (``CryptProtectData``) through pywin32, bound to the user account."""

    name = "dpapi"

    def __init__(self) -> None:
        if sys.platform != "win32":
            raise IntegrityError("DPAPI exists only on Windows")
        import win32crypt  # pywin32; a dependency on Windows only

        self._crypt: ModuleType = win32crypt

    def protect(self, secret: bytes) -> bytes:
        return self._crypt.CryptProtectData(secret, "PlantML audit key", _ENTROPY, None, None,
                                            0)

    def unprotect(self, stored: bytes) -> bytes:
        try:
            _description, secret = self._crypt.CryptUnprotectData(stored, _ENTROPY, None, None,
                                                                  0)
        except Exception as exc:  # pywintypes.error, not importable elsewhere
            raise IntegrityError("the audit key cannot be decrypted on this Windows account "
                                 f"(DPAPI: {exc}); it was made by another account or machine"
                                 ) from exc
        return secret


def default_protector() -> KeyProtector:
    """DPAPI on Windows, an owner-only file elsewhere."""
    return Dpapi() if sys.platform == "win32" else OwnerOnlyFile()


def protector_named(name: str) -> KeyProtector:
    """The protector a stored key names; IntegrityError for one this system lacks."""
    if name == OwnerOnlyFile.name:
        return OwnerOnlyFile()
    if name == Dpapi.name:
        return Dpapi()
    raise IntegrityError(f"the audit key is protected by {name!r}, which PlantML does not know")


def make_private_dir(folder: Path) -> list[str]:
    """Create ``folder`` owner-only (0700 on POSIX); returns what had to be tightened."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return tighten(folder, 0o700)


def tighten(path: Path, mode: int) -> list[str]:
    """Remove every permission beyond ``mode`` (POSIX; Windows relies on the folder's ACL and
    DPAPI); returns a description of what was changed."""
    if os.name != "posix":
        return []
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode == 0:
        return []
    os.chmod(path, current & mode)
    return [f"{path.name}: mode {current:04o} -> {current & mode:04o}"]
