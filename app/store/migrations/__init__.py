"""Alembic migration scripts of the workspace database."""
