"""Signed model packages: build, verify, USB export and import.

Names are imported on first use (PEP 562), so code that needs only verification (the
controller runtime on an edge box) loads only the modules verification is made of, not the
builder or the USB drive code.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.packages.build import build_package
    from app.packages.errors import REASONS, PackageRefused
    from app.packages.manifest import DEFAULT_VALIDITY, SCHEMA, body_sha256, make_body
    from app.packages.names import STANDARD_FILES, package_filename
    from app.packages.signatures import check_signatures, sign_body
    from app.packages.staging import unpack_to_staging
    from app.packages.trust import TrustedKey, TrustStore, key_id_for
    from app.packages.usb import (
        ExportResult,
        RemovableDrive,
        export_package,
        import_package,
        list_removable_drives,
    )
    from app.packages.verify import (
        ExpiryOverride,
        VerifiedPackage,
        accept_package,
        verify_package,
    )
    from app.packages.zipsafe import Limits

#: Public name -> the module of this package that defines it.
_WHERE = {
    "build_package": "build",
    "REASONS": "errors", "PackageRefused": "errors",
    "DEFAULT_VALIDITY": "manifest", "SCHEMA": "manifest", "body_sha256": "manifest",
    "make_body": "manifest",
    "STANDARD_FILES": "names", "package_filename": "names",
    "check_signatures": "signatures", "sign_body": "signatures",
    "unpack_to_staging": "staging",
    "TrustedKey": "trust", "TrustStore": "trust", "key_id_for": "trust",
    "ExportResult": "usb", "RemovableDrive": "usb", "export_package": "usb",
    "import_package": "usb", "list_removable_drives": "usb",
    "ExpiryOverride": "verify", "VerifiedPackage": "verify", "accept_package": "verify",
    "verify_package": "verify",
    "Limits": "zipsafe",
}

__all__ = [
    "DEFAULT_VALIDITY", "REASONS", "SCHEMA", "STANDARD_FILES", "ExpiryOverride", "ExportResult",
    "Limits", "PackageRefused", "RemovableDrive", "TrustStore", "TrustedKey", "VerifiedPackage",
    "accept_package", "body_sha256", "build_package", "check_signatures", "export_package",
    "import_package", "key_id_for", "list_removable_drives", "make_body", "package_filename",
    "sign_body", "unpack_to_staging", "verify_package",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # the next lookup is a plain module attribute
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
