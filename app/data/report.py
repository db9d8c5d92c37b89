"""The validation report of an import: every rejected or flagged row with its line and reason."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

REJECTED = "rejected"
FLAGGED = "flagged"

#: Issues kept in memory; past this, issues are still counted per reason (bounded memory on
#: a multi-GB file where every row is bad) and the report says how many were not listed.
DEFAULT_MAX_LISTED = 100_000
MAX_KINDS = 200
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


@dataclass(frozen=True)
class Issue:
    """One rejected or flagged row.

    ``line`` is the physical line in a text file (1-based), ``row`` the 0-based data row of a
    binary file or a recording; one of them is set. ``column`` is None for whole-row faults.
    """

    line: int | None
    row: int | None
    column: str | None
    reason: str
    action: str

    def where(self) -> str:
        """'line 12', 'row 40' or 'file', for messages."""
        if self.line is not None:
            return f"line {self.line}"
        return f"row {self.row}" if self.row is not None else "file"

    def to_dict(self) -> dict[str, Any]:
        """Plain form for JSON reports."""
        return {"line": self.line, "row": self.row, "column": self.column,
                "reason": self.reason, "action": self.action}


@dataclass
class ValidationReport:
    """Counts and issues of one import; ``rows_in == rows_accepted + rows_rejected`` always.

    Rows are counted as they are read; :meth:`check_balance` proves nothing was dropped.
    """

    source: str
    rows_in: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_flagged: int = 0
    issues: list[Issue] = field(default_factory=list)
    unlisted: Counter = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    max_listed: int = DEFAULT_MAX_LISTED

    @property
    def room(self) -> int:
        """How many more issues will be listed one by one."""
        return max(self.max_listed - len(self.issues), 0)

    def add_issue(self, issue: Issue) -> None:
        """Record an issue; counts are kept by the caller through :meth:`count_rows`."""
        if len(self.issues) < self.max_listed:
            self.issues.append(issue)
        else:
            self.count_unlisted(f"{issue.action}: {issue.reason}", 1)

    def count_unlisted(self, reason: str, n: int) -> None:
        """Count ``n`` issues past the listing cap under the kind of ``reason``."""
        if n <= 0:
            return
        # Keep the kind ("rejected: text in numeric column 'a'") without the values, and
        # cap the number of kinds, so the counter stays small whatever the file holds.
        kind = _NUMBER.sub("#", reason.split(": '", maxsplit=1)[0])
        if kind not in self.unlisted and len(self.unlisted) >= MAX_KINDS:
            kind = "other"
        self.unlisted[kind] += n

    def count_rows(self, accepted: int, rejected: int, flagged: int = 0) -> None:
        """Add a batch's counts; ``flagged`` rows are a subset of the accepted ones."""
        self.rows_in += accepted + rejected
        self.rows_accepted += accepted
        self.rows_rejected += rejected
        self.rows_flagged += flagged

    def note(self, text: str) -> None:
        """A remark about the whole file (a skipped variable, a detected dialect)."""
        self.notes.append(text)

    def sort(self) -> None:
        """Order listed issues by position in the file."""
        self.issues.sort(key=lambda i: (i.line if i.line is not None else -1,
                                        i.row if i.row is not None else -1))

    def check_balance(self) -> None:
        """Raise AssertionError if a row went missing between reading and accepting."""
        if self.rows_in != self.rows_accepted + self.rows_rejected:
            raise AssertionError(f"{self.source}: rows in {self.rows_in} != accepted "
                                 f"{self.rows_accepted} + rejected {self.rows_rejected}")

    @property
    def listed_all(self) -> bool:
        """True when every issue is in :attr:`issues`."""
        return not self.unlisted

    def summary(self) -> str:
        """One line for logs and the CLI."""
        text = (f"{self.source}: {self.rows_in} rows read, {self.rows_accepted} accepted, "
                f"{self.rows_rejected} rejected, {self.rows_flagged} flagged")
        if self.unlisted:
            text += f" ({sum(self.unlisted.values())} issues past the first {self.max_listed} " \
                    "counted by reason only)"
        return text

    def to_dict(self) -> dict[str, Any]:
        """Plain form for the JSON report stored next to a snapshot."""
        return {"source": self.source, "rows_in": self.rows_in,
                "rows_accepted": self.rows_accepted, "rows_rejected": self.rows_rejected,
                "rows_flagged": self.rows_flagged,
                "issues": [i.to_dict() for i in self.issues],
                "unlisted": dict(self.unlisted), "notes": list(self.notes)}
