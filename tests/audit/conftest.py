"""The audit suite runs on both registry backends: SQLite and a real PostgreSQL server."""

from tests.backends import backend, services, shared_url  # noqa: F401 - the fixtures of this folder
