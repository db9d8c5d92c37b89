"""Tests of the signed package domain layer (app.packages)."""
