"""ISO 8601 UTC timestamps as packages and the trust store write and read them."""

from __future__ import annotations

from datetime import UTC, datetime

from app.packages.errors import PackageRefused


def iso_utc(moment: datetime) -> str:
    """``moment`` in UTC as ISO 8601 (``2025-01-31T12:00:00+00:00``); naive times are refused."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


def parse_utc(text: object, field: str) -> datetime:
    """Parse a timestamp written by :func:`iso_utc`; raise PackageRefused naming ``field``."""
    if not isinstance(text, str):
        raise PackageRefused("manifest", f"{field} is not a timestamp string")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise PackageRefused("manifest", f"{field} {text!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise PackageRefused("manifest", f"{field} {text!r} has no time zone")
    return moment.astimezone(UTC)
