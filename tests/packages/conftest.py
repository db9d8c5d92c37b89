"""Fixtures for package tests: a kit with keys, trust store and clock in a temp folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.packages.kit import Kit


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit(root=tmp_path)
