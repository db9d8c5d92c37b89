"""Persistence: SQLite through SQLAlchemy, Alembic migrations, content-addressed blobs."""
