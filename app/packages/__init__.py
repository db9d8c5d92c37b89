"""Signed model packages: build, verify, USB export and import."""

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
from app.packages.verify import ExpiryOverride, VerifiedPackage, accept_package, verify_package
from app.packages.zipsafe import Limits

__all__ = [
    "DEFAULT_VALIDITY", "REASONS", "SCHEMA", "STANDARD_FILES", "ExpiryOverride", "ExportResult",
    "Limits", "PackageRefused", "RemovableDrive", "TrustStore", "TrustedKey", "VerifiedPackage",
    "accept_package", "body_sha256", "build_package", "check_signatures", "export_package",
    "import_package", "key_id_for", "list_removable_drives", "make_body", "package_filename",
    "sign_body", "unpack_to_staging", "verify_package",
]
