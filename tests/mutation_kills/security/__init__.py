"""Tests written to kill the security group's surviving mutants (bench/mutation.py lists
this folder)."""
