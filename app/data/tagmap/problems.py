"""One problem of a tag map, placed: the section and row at fault and the setting, so an
editor can point at the cell while the message stays the one the CLI prints."""

from __future__ import annotations

from dataclasses import dataclass

#: Sections of a tag map a problem can sit in ("toml": the text is no TOML at all).
SECTIONS = ("top", "connection", "defaults", "tag", "waveform", "toml")


@dataclass(frozen=True)
class Problem:
    """``message`` names the tag or setting in words ("tag 'flow': scale must not be 0");
    ``index`` is the 0-based row of a [[tag]] or [[waveform]], ``key`` the setting ('' when
    no single one is at fault), ``line`` the TOML line of a syntax error."""

    message: str
    section: str = "top"
    index: int | None = None
    key: str = ""
    line: int | None = None

    def __str__(self) -> str:
        return self.message
