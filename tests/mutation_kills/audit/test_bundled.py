"""Where the standalone verifier shipped in every export is found: inside the bundle when
PlantML runs frozen, next to the app package in a source tree."""

from __future__ import annotations

import sys
from pathlib import Path

from app.audit import bundled

ROOT = Path(bundled.__file__).resolve().parents[2]


def test_a_source_tree_reads_the_resources_next_to_the_app(monkeypatch):
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    assert bundled.resources_dir() == ROOT / "resources"


def test_a_frozen_build_reads_the_resources_inside_the_bundle(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert bundled.resources_dir() == tmp_path / "resources"
    assert bundled.verifier_source() is None  # nothing installed in that empty bundle
