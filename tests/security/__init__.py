"""Security: key protection, sealed security state, accounts and recovery."""
