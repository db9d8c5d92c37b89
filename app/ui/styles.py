"""Colours of the status lines every page shares, and a helper that applies them."""

from __future__ import annotations

from typing import Protocol

# The palette of resources/styles/plantml.qss: ok #2e7d32, alarm #c62828, muted #5b6b7b.
GOOD_STYLE = "color: #2e7d32; font-weight: bold;"
BAD_STYLE = "color: #c62828; font-weight: bold;"
NOTE_STYLE = "color: #5b6b7b;"
#: A role's refusal: worth reading, never worded or coloured like a failed check.
REFUSED_STYLE = "color: #b26a00; font-weight: bold;"

#: Red of an error cell or an error line without bold.
ERROR_COLOUR = "#c62828"
ERROR_STYLE = f"color: {ERROR_COLOUR};"

#: A status word by its level (the ``status`` property the stylesheet also knows).
WARN_STYLE = "color: #b26a00; font-weight: bold;"
STATUS_STYLES = {"ok": GOOD_STYLE, "warn": WARN_STYLE, "alarm": BAD_STYLE, "": NOTE_STYLE}

#: The workspace alarm in the status bar: white on red, impossible to overlook.
ALARM_STYLE = (f"color: white; background-color: {ERROR_COLOUR}; font-weight: bold; "
               "padding: 2px 6px;")


class _Styled(Protocol):
    def setText(self, text: str) -> None: ...  # noqa: N802 - Qt API

    def setStyleSheet(self, style: str) -> None: ...  # noqa: N802 - Qt API


def show_styled(label: _Styled, text: str, style: str) -> None:
    """Put ``text`` in ``label`` with ``style`` (one of the styles above)."""
    label.setText(text)
    label.setStyleSheet(style)


class _WithProperty(_Styled, Protocol):
    def setProperty(self, name: str, value: object) -> bool: ...  # noqa: N802 - Qt API


def show_status(label: _WithProperty, text: str, status: str) -> None:
    """Put ``text`` in ``label`` coloured for ``status`` (ok, warn, alarm, or '' for a
    note), and set its ``status`` property so tests and the stylesheet can read it."""
    label.setProperty("status", status)
    show_styled(label, text, STATUS_STYLES[status])
