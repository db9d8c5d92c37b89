"""Find tags, waveform buffers and sequence registers that claim the same Modbus addresses."""

from __future__ import annotations

from app.data.tagmap.model import Tag, Waveform


def _span(table: str, start: int, words: int) -> str:
    end = start + words - 1
    return f"{table} {start}" if end == start else f"{table} {start}-{end}"


def check_overlaps(tags: list[Tag], waves: list[Waveform]) -> list[str]:
    """One message per overlapping pair, naming both; coils and registers are separate.

    Waveforms may share one sequence register (a device may count all its buffers
    together), but nothing else may share an address.
    """
    items: list[tuple[str, int, int, str, str]] = []  # table, start, end, owner, what
    for tag in tags:
        items.append((tag.table, tag.address, tag.address + tag.words,
                      f"tag {tag.name!r}", _span(tag.table, tag.address, tag.words)))
    seq_seen: set[tuple[str, int]] = set()
    for w in waves:
        items.append((w.table, w.address, w.address + w.words, f"waveform {w.name!r}",
                      _span(w.table, w.address, w.words)))
        key = (w.sequence_table, w.sequence_address)
        if key not in seq_seen:
            seq_seen.add(key)
            items.append((w.sequence_table, w.sequence_address, w.sequence_address + 1,
                          f"sequence register of waveform {w.name!r}",
                          _span(w.sequence_table, w.sequence_address, 1)))
    problems = []
    items.sort()
    for i, (table, _, end, owner, span) in enumerate(items):
        for other in items[i + 1:]:
            if other[0] != table or other[1] >= end:
                break
            problems.append(f"{owner} ({span}) overlaps {other[3]} ({other[4]})")
    return problems
