"""Time column values: plain seconds, or ISO 8601 date-times turned into Unix seconds."""

from __future__ import annotations

import re
from datetime import UTC, datetime

NUMERIC = "numeric"
ISO = "iso"
ISO_ZONED = "iso-zoned"

_ZONE = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def time_kind(text: str, decimal: str) -> str | None:
    """'numeric', 'iso' (no zone), 'iso-zoned' or None if ``text`` is neither."""
    text = text.strip().strip('"').strip()
    try:
        float(text.replace(",", ".") if decimal == "," else text)
        return NUMERIC
    except ValueError:
        pass
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return None
    return ISO_ZONED if _ZONE.search(text) else ISO


def parse_iso_seconds(text: str) -> float:
    """Seconds since 1970-01-01 UTC; a time without zone is taken as UTC.

    Raises ValueError for text that is not an ISO 8601 date-time.
    """
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
