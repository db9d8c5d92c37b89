"""Audit trail: export, verification, anchors, the standalone verifier."""
