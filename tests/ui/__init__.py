"""Tests of the Qt desktop application (pytest-qt, offscreen)."""
