"""Signed model packages: build, verify, USB export and import."""
