"""Colours of the status lines every page shares, and a helper that applies them."""

from __future__ import annotations

from typing import Protocol

GOOD_STYLE = "color: #1b5e20; font-weight: bold;"
BAD_STYLE = "color: #b00020; font-weight: bold;"
NOTE_STYLE = "color: #555555;"

#: Red of an error cell or an error line without bold.
ERROR_COLOUR = "#b00020"
ERROR_STYLE = f"color: {ERROR_COLOUR};"


class _Styled(Protocol):
    def setText(self, text: str) -> None: ...  # noqa: N802 - Qt API

    def setStyleSheet(self, style: str) -> None: ...  # noqa: N802 - Qt API


def show_styled(label: _Styled, text: str, style: str) -> None:
    """Put ``text`` in ``label`` with ``style`` (one of the styles above)."""
    label.setText(text)
    label.setStyleSheet(style)
