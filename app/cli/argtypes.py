"""Argument types for argparse: a bad value is refused naming the argument, before any work."""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from app.core.errors import UsageError


def positive_int(text: str) -> int:
    """A whole number above zero."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number above 0, not {text!r}")
    return value


def open_fraction(text: str) -> float:
    """A number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not math.isfinite(value) or not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, not {text!r}")
    return value


def json_object(text: str) -> dict:
    """A JSON object such as {"n_estimators": 200}."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise argparse.ArgumentTypeError(f"is not JSON ({exc}); give an object such as "
                                         "'{\"n_estimators\": 200}'") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"must be a JSON object such as "
                                         f"'{{\"n_estimators\": 200}}', not {text!r}")
    return value


def output_file(path: Path, *, force: bool, what: str) -> Path:
    """Check that ``path`` can take a new file: not a folder, its folder exists, and not an
    existing file unless ``force``. Raises UsageError naming ``what`` and the path."""
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{what} {path} is a folder; name the file to write")
    if not path.parent.is_dir():
        raise UsageError(f"{what} {path}: the folder {path.parent} does not exist")
    if path.exists() and not force:
        raise UsageError(f"{what} {path} already exists; pass --force to replace it")
    return path


def output_folder(path: Path, *, what: str) -> Path:
    """Check that ``path`` is a folder or can become one; raises UsageError naming ``what``."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{what} {path} is a file, not a folder")
    return path
