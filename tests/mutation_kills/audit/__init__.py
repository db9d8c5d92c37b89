"""Tests written to kill the audit group's surviving mutants (bench/mutation.py lists
this folder)."""
