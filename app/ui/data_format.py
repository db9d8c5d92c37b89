"""Texts of the Data page: dataset rows, durations, option words and validation reports."""

from __future__ import annotations

from app.core.records import DatasetInfo

#: Characters of the dataset id shown (enough to name it in the CLI).
ID_PREFIX = 12


def dataset_row(info: DatasetInfo) -> tuple[str, ...]:
    """The table's texts for one dataset, in DATASET_COLUMNS order."""
    channels = ", ".join(f"{c.name} [{c.unit}]" if c.unit else c.name for c in info.channels)
    return (info.name, info.dataset_id[:ID_PREFIX], str(len(info.recordings)), channels,
            format_duration(info.duration_s), info.created_by)


def format_duration(seconds: float) -> str:
    """``0.5 s``, ``12.3 s``, ``4 min 05 s``, ``2 h 03 min``."""
    if seconds < 60:
        return f"{seconds:.3g} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"


def words(text: str) -> list[str]:
    """``"a, b; c"`` -> ``["a", "b", "c"]``."""
    return [w.strip() for w in text.replace(";", ",").split(",") if w.strip()]


def report_summary(name: str, rep: dict) -> str:
    """One file's validation report as one line."""
    return (f"{name}: {rep.get('rows_in', 0)} rows read, {rep.get('rows_accepted', 0)} "
            f"accepted, {rep.get('rows_rejected', 0)} rejected, "
            f"{rep.get('rows_flagged', 0)} flagged" + _extra(rep))


def issue_cells(name: str, issue: dict) -> tuple[str, str, str, str, str]:
    """One validation issue as the issue table's texts (file, where, column, reason,
    action)."""
    return (name, _where(issue), str(issue.get("column") or ""), str(issue.get("reason", "")),
            str(issue.get("action", "")))


def _where(issue: dict) -> str:
    if issue.get("line") is not None:
        return f"line {issue['line']}"
    if issue.get("row") is not None:
        return f"row {issue['row']}"
    return "file"


def _extra(rep: dict) -> str:
    unlisted = sum((rep.get("unlisted") or {}).values())
    notes = "; ".join(rep.get("notes") or [])
    text = f" ({unlisted} more issues counted by reason only)" if unlisted else ""
    return text + (f"; {notes}" if notes else "")
