"""Accounts, password hashing, role checks, electronic signatures and Ed25519 keys."""
