"""Naming rules for package members and package files: flat, plain, portable names only."""

from __future__ import annotations

import re

from app.packages.errors import PackageRefused

MANIFEST_NAME = "manifest.json"
SUFFIX = ".plantml"

#: The payload a package normally carries; the exact set is whatever the manifest declares.
STANDARD_FILES = (
    "model.onnx",
    "validation_report.json",
    "parity_report.json",
    "model_card.md",
    "golden_inputs.npy",
    "golden_outputs.json",
    "audit_checkpoint.json",
)
#: A controller cannot self-test a model without its golden inputs and outputs.
REQUIRED_FILES = ("model.onnx", "golden_inputs.npy", "golden_outputs.json")

# ASCII only, no separators, no leading dot: the same name is safe on every file system.
_MEMBER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def member_problem(name: str) -> str | None:
    """Why ``name`` is not an acceptable flat member name, or None if it is."""
    if not name:
        return "an empty name"
    if "\x00" in name:
        return "a NUL byte"
    if name.startswith(("/", "\\")):
        return "an absolute path"
    if len(name) >= 2 and name[1] == ":":
        return "a drive letter"
    if "\\" in name:
        return "a backslash"
    if ".." in name:
        return "a '..' component"
    if "/" in name:
        return "a folder (payload names are flat)"
    if not _MEMBER.fullmatch(name):
        return "characters outside A-Z a-z 0-9 _ . -"
    return None


def check_member_name(name: str) -> None:
    """Raise PackageRefused('path') if ``name`` is not a safe flat member name."""
    problem = member_problem(name)
    if problem is not None:
        raise PackageRefused("path", f"member {name!r} is refused: it contains {problem}")


def check_model_name(name: object) -> str:
    """Return ``name`` if it is a valid model line name, else raise PackageRefused."""
    if not isinstance(name, str) or not _MODEL.fullmatch(name):
        raise PackageRefused("manifest", f"model_name {name!r} is not a plain name "
                             "(letters, digits, _ . -, at most 64 characters)")
    return name


def package_filename(model_name: str, model_version: int, release_counter: int) -> str:
    """``NAME-vVERSION-rCOUNTER.plantml``, the file name a package is written under."""
    check_model_name(model_name)
    return f"{model_name}-v{int(model_version)}-r{int(release_counter)}{SUFFIX}"
