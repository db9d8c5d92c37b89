"""Plan reads: merge neighbouring tags into as few Modbus requests as the protocol allows."""

from __future__ import annotations

from dataclasses import dataclass

from app.fieldbus.limits import read_limit


@dataclass(frozen=True)
class Span:
    """Something to read: ``words`` registers (or bits) from ``address`` in ``table``."""

    key: str
    table: str
    address: int
    words: int


@dataclass(frozen=True)
class Read:
    """One request; ``parts`` are (key, offset in the response, words) of what it carries."""

    table: str
    address: int
    count: int
    parts: tuple[tuple[str, int, int], ...]


def plan_reads(spans: list[Span], max_gap: int = 0) -> list[Read]:
    """Fewest reads covering every span; a span is never split across two reads.

    Spans whose gap is at most ``max_gap`` registers share a read (the gap is read and
    ignored; keep it 0 for devices that refuse unmapped addresses).
    """
    reads: list[Read] = []
    for table in sorted({s.table for s in spans}):
        cap = read_limit(table)
        start = end = -1
        parts: list[tuple[str, int, int]] = []
        for span in sorted((s for s in spans if s.table == table), key=lambda s: s.address):
            if span.words > cap:
                raise ValueError(f"{span.key}: {span.words} words exceed one read ({cap})")
            new_end = max(end, span.address + span.words)
            if parts and span.address - end <= max_gap and new_end - start <= cap:
                parts.append((span.key, span.address - start, span.words))
                end = new_end
                continue
            if parts:
                reads.append(Read(table, start, end - start, tuple(parts)))
            start, end = span.address, span.address + span.words
            parts = [(span.key, 0, span.words)]
        if parts:
            reads.append(Read(table, start, end - start, tuple(parts)))
    return reads


def split_block(table: str, address: int, words: int) -> list[Read]:
    """Reads for one long block (a waveform buffer), each as large as allowed."""
    cap = read_limit(table)
    reads = []
    for start in range(address, address + words, cap):
        count = min(cap, address + words - start)
        reads.append(Read(table, start, count, ((f"@{start}", 0, count),)))
    return reads
