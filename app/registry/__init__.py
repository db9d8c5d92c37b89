"""Model versions, lineage, lifecycle and approvals."""
