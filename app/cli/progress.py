"""A text progress bar for long jobs run inline by the CLI."""

from __future__ import annotations

import sys

_open_line = False


def end_progress_line() -> None:
    """End a progress bar's line, so what is printed next starts on a line of its own."""
    global _open_line
    if _open_line:
        sys.stderr.write("\n")
        sys.stderr.flush()
        _open_line = False


class TextProgress:
    """Callable progress reporter drawing one line on stderr."""

    def __init__(self, width: int = 30) -> None:
        self.width = width
        self._last = -1

    def __call__(self, fraction: float, message: str) -> None:
        global _open_line
        pct = int(fraction * 100)
        if pct == self._last:
            return
        self._last = pct
        filled = int(self.width * fraction)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {pct:3d}% {message}"
                         f"{' ' * 10}")
        _open_line = True
        if fraction >= 1.0:
            sys.stderr.write("\n")
            _open_line = False
        sys.stderr.flush()
