"""Errors of the data layer: refused input files and invalid tag maps (Modbus device faults are
:mod:`app.fieldbus.errors`)."""

from __future__ import annotations

from typing import Any

from app.core.errors import UsageError


class ImportRefused(UsageError):
    """An input file cannot be imported at all (corrupt, unsupported or inconsistent).

    The message names the file and, where known, the line, row, column or field.
    """


class TagMapError(UsageError):
    """A tag map is malformed; the message names the tag, buffer or setting at fault, and
    ``problems`` (app.data.tagmap.problems.Problem) place each one for an editor."""

    def __init__(self, message: str, problems: tuple[Any, ...] = ()) -> None:
        super().__init__(message)
        self.problems = problems
