"""Find tags, waveform buffers and sequence registers that claim the same Modbus addresses."""

from __future__ import annotations

from app.data.tagmap.model import Tag, Waveform
from app.data.tagmap.problems import Problem


def _span(table: str, start: int, words: int) -> str:
    end = start + words - 1
    return f"{table} {start}" if end == start else f"{table} {start}-{end}"


def check_overlaps(tags: list[Tag], waves: list[Waveform]) -> list[Problem]:
    """One problem per overlapping pair, naming both (placed on the first of the two);
    coils and registers are separate.

    Waveforms may share one sequence register (a device may count all its buffers
    together), but nothing else may share an address.
    """
    # table, start, end, owner, what, then where the problem sits: section, row, setting
    items: list[tuple[str, int, int, str, str, str, int, str]] = []
    for i, tag in enumerate(tags):
        items.append((tag.table, tag.address, tag.address + tag.words, f"tag {tag.name!r}",
                      _span(tag.table, tag.address, tag.words), "tag", i, "address"))
    seq_seen: set[tuple[str, int]] = set()
    for i, w in enumerate(waves):
        items.append((w.table, w.address, w.address + w.words, f"waveform {w.name!r}",
                      _span(w.table, w.address, w.words), "waveform", i, "address"))
        key = (w.sequence_table, w.sequence_address)
        if key not in seq_seen:
            seq_seen.add(key)
            items.append((w.sequence_table, w.sequence_address, w.sequence_address + 1,
                          f"sequence register of waveform {w.name!r}",
                          _span(w.sequence_table, w.sequence_address, 1), "waveform", i,
                          "sequence_register"))
    problems = []
    items.sort()
    for i, (table, _, end, owner, span, section, index, setting) in enumerate(items):
        for other in items[i + 1:]:
            if other[0] != table or other[1] >= end:
                break
            problems.append(Problem(f"{owner} ({span}) overlaps {other[3]} ({other[4]})",
                                    section, index, setting))
    return problems
