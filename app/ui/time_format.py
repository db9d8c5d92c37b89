"""Stored ISO timestamps as people read them on screen."""

from __future__ import annotations

from datetime import datetime


def format_time(ts: str) -> str:
    """``2025-01-31 14:03:07 +01:00`` from the stored ISO timestamp (seconds are enough on
    screen; the export keeps the microseconds)."""
    try:
        when = datetime.fromisoformat(ts)
    except ValueError:
        return ts
    text = when.strftime("%Y-%m-%d %H:%M:%S")
    offset = when.strftime("%z")
    if offset:
        text += f" {offset[:3]}:{offset[3:]}"
    return text
