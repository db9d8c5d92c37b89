"""Finding the files PlantML ships in ``resources/`` (the standalone audit verifier), in a
source tree and in the frozen one-folder bundle alike."""

from __future__ import annotations

import sys
from pathlib import Path

VERIFIER = ("verifier", "plantml_audit_verify.py")


def resources_dir() -> Path:
    """``resources/``: next to ``app/`` in a source tree, inside the bundle when frozen."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def verifier_source() -> bytes | None:
    """The standalone verifier that goes into every export, or None if it is not installed."""
    path = resources_dir().joinpath(*VERIFIER)
    try:
        return path.read_bytes()
    except OSError:
        return None
