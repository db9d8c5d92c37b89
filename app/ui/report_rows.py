"""Nested report values (JSON dicts and lists) as flat (field, value) rows for tables."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

#: Keys that name an item of a list of records (its row is called by it, not by a number).
_NAME_KEYS = ("name", "condition", "label", "channel", "feature")

#: Rows made of one value at most: a report is read, not scrolled through.
MAX_ROWS = 2000

#: Shown in place of a value that is absent.
MISSING = "-"


def scalar_text(value: Any) -> str:
    """One value as a cell shows it: numbers compactly, true/false, ``-`` for nothing."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _item_name(item: Any, index: int) -> str:
    if isinstance(item, Mapping):
        for key in _NAME_KEYS:
            if isinstance(item.get(key), str) and item[key]:
                return str(item[key])
    return str(index)


def flat_rows(value: Any, prefix: str = "") -> list[tuple[str, str]]:
    """``value`` as (dotted field, text) rows, keys sorted: a dict opens into its keys, a
    list of plain values is one row (``1, 2, 3``), a list of records one row per field of
    each record, the record called by its name where it has one (``rows[gain x2].score``).
    """
    out: list[tuple[str, str]] = []
    _flatten(value, prefix, out)
    if len(out) > MAX_ROWS:
        cut = len(out) - MAX_ROWS
        out = [*out[:MAX_ROWS], ("...", f"{cut} more fields not shown")]
    return out


def _flatten(value: Any, prefix: str, out: list[tuple[str, str]]) -> None:
    if isinstance(value, Mapping):
        if not value:
            out.append((prefix or "(empty)", MISSING))
        for key in sorted(value, key=str):
            _flatten(value[key], f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list | tuple):
        if all(_is_scalar(v) for v in value):
            out.append((prefix, ", ".join(scalar_text(v) for v in value) or MISSING))
        elif all(isinstance(v, list | tuple) and all(_is_scalar(x) for x in v)
                 for v in value):
            for i, row in enumerate(value):  # a matrix: one row of it per table row
                out.append((f"{prefix}[{i}]", ", ".join(scalar_text(x) for x in row)))
        else:
            for i, item in enumerate(value):
                _flatten(item, f"{prefix}[{_item_name(item, i)}]", out)
    else:
        out.append((prefix, scalar_text(value)))


def flat_diff(diff: Mapping[str, tuple[Any, Any]]) -> list[tuple[str, str, str]]:
    """A comparison ({field: (a, b)}) as (field, a, b) rows: fields holding dicts open into
    the nested fields that differ, so a changed recipe shows the one parameter that
    changed, not two JSON blobs."""
    out: list[tuple[str, str, str]] = []
    for key, (a, b) in diff.items():
        if isinstance(a, Mapping) or isinstance(b, Mapping):
            left = dict(flat_rows(a if isinstance(a, Mapping) else {}, key))
            right = dict(flat_rows(b if isinstance(b, Mapping) else {}, key))
            for field in sorted(set(left) | set(right)):
                la, rb = left.get(field, MISSING), right.get(field, MISSING)
                if la != rb:
                    out.append((field, la, rb))
        else:
            a_rows, b_rows = flat_rows(a), flat_rows(b)
            out.append((key, "; ".join(t for _, t in a_rows) if len(a_rows) != 1
                        else a_rows[0][1],
                        "; ".join(t for _, t in b_rows) if len(b_rows) != 1
                        else b_rows[0][1]))
    return out
