"""Widgets and panels the pages are built from: plots, tables, trees, job controls."""
