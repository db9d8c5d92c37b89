"""Tamper-evident audit trail: hash chain, signed checkpoints, export and verification."""
