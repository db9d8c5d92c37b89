"""Poll the process tags of a tag map: planned block reads, decoded without per-tag NumPy."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from app.data.acquire.plan import Read, Span, plan_reads
from app.data.tagmap.model import Tag, TagMap
from app.fieldbus.codec import TYPES
from app.fieldbus.errors import DeviceError
from app.fieldbus.limits import BIT_TABLES

#: struct codes of the register types (big-endian once words and bytes are in order).
_CODES = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "float32": "f",
          "float64": "d"}


@dataclass
class _Decoder:
    """Turns the registers of one read into (slot, value) pairs for the row."""

    read: Read
    slots: list[int]
    scales: list[tuple[float, float]]
    bits: bool
    offsets: list[int]
    order: list[int] | None  # register permutation for little word order, if any
    swap: list[bool] | None  # per register, swap its two bytes
    unpack: struct.Struct | None
    pack: struct.Struct | None

    def values(self, regs: list[int], row: list[float]) -> None:
        if self.bits:
            for slot, off, (scale, offset) in zip(self.slots, self.offsets, self.scales,
                                                  strict=True):
                row[slot] = regs[off] * scale + offset
            return
        if self.order is not None:
            regs = [regs[i] for i in self.order]
        if self.swap is not None:
            regs = [((r & 0xFF) << 8) | (r >> 8) if s else r
                    for r, s in zip(regs, self.swap, strict=True)]
        assert self.unpack is not None and self.pack is not None  # set for every non-bit group
        raw = self.unpack.unpack(self.pack.pack(*regs))
        for slot, value, (scale, offset) in zip(self.slots, raw, self.scales, strict=True):
            row[slot] = value * scale + offset


def _decoder(read: Read, tags: dict[str, Tag], slot_of: dict[str, int]) -> _Decoder:
    parts = sorted(read.parts, key=lambda p: p[1])
    chosen = [tags[key] for key, _, _ in parts]
    slots = [slot_of[t.name] for t in chosen]
    scales = [(t.scale, t.offset) for t in chosen]
    if read.table in BIT_TABLES:
        return _Decoder(read, slots, scales, True, [p[1] for p in parts], None, None, None,
                        None)
    order = list(range(read.count))
    swap = [False] * read.count
    fmt, pos = ">", 0
    for tag, (_, off, words) in zip(chosen, parts, strict=True):
        if off > pos:
            fmt += f"{2 * (off - pos)}x"  # a gap read along (max_gap) is skipped
        if tag.word_order == "little":
            order[off:off + words] = reversed(order[off:off + words])
        if tag.byte_order == "little":
            swap[off:off + words] = [True] * words
        fmt += _CODES[tag.type]
        pos = off + words
    fmt += f"{2 * (read.count - pos)}x" if read.count > pos else ""
    return _Decoder(read, slots, scales, False, [], order if order != sorted(order) else None,
                    swap if any(swap) else None, struct.Struct(fmt),
                    struct.Struct(f">{read.count}H"))


class TagPoller:
    """Reads every process tag once per :meth:`poll`, with the fewest requests."""

    def __init__(self, tagmap: TagMap) -> None:
        self.tags = list(tagmap.tags)
        self.names = [t.name for t in self.tags]
        by_name = {t.name: t for t in self.tags}
        slot_of = {name: i for i, name in enumerate(self.names)}
        spans = [Span(t.name, t.table, t.address, TYPES[t.type][0]) for t in self.tags]
        self.reads = plan_reads(spans, tagmap.max_gap)
        self.decoders = [_decoder(r, by_name, slot_of) for r in self.reads]

    def poll(self, link) -> list[float]:
        """One value per tag (engineering units), in tag-map order; DeviceError on failure."""
        row = [0.0] * len(self.tags)
        for dec in self.decoders:
            r = dec.read
            try:
                regs = link.read(r.table, r.address, r.count)
            except DeviceError as exc:
                names = self.tags_of(r)
                shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more"
                                                 if len(names) > 6 else "")
                exc.args = (f"{exc} [tags {shown}]",)  # same error, now naming the tags
                raise
            dec.values(regs, row)
        return row

    def tags_of(self, read: Read) -> list[str]:
        """Names of the tags a read carries (for messages)."""
        return [key for key, _, _ in read.parts]
