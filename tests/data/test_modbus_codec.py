"""Register decoding (types, word and byte order) and read planning."""

from __future__ import annotations

import numpy as np
import pytest

from app.data.acquire.plan import Read, Span, plan_reads, split_block
from app.data.acquire.tags import TagPoller
from app.data.tagmap.load import parse_tagmap
from app.devices.sim.registers import PROCESS_TAGS, process_registers, process_values
from app.devices.sim.tagmap import simulator_tagmap
from app.fieldbus.codec import decode, encode

VALUES = {"int16": [0, -1, 32767, -32768], "uint16": [0, 1, 65535, 4660],
          "int32": [0, -1, 2**31 - 1, -(2**31)], "uint32": [0, 1, 2**32 - 1, 305419896],
          "float32": [0.0, -1.5, 3.25e10, 1e-20], "float64": [0.0, -1.5, 1e300, np.pi]}


@pytest.mark.parametrize("kind", sorted(VALUES))
@pytest.mark.parametrize("word_order", ["big", "little"])
@pytest.mark.parametrize("byte_order", ["big", "little"])
def test_round_trip(kind, word_order, byte_order):
    raw = np.array(VALUES[kind])
    regs = encode(raw, kind, word_order=word_order, byte_order=byte_order)
    back = decode(regs, kind, word_order=word_order, byte_order=byte_order)
    expected = raw.astype(np.float32).astype(float) if kind == "float32" else raw.astype(float)
    assert np.array_equal(back, expected)


def test_known_register_layouts():
    # 123456789 = 0x075BCD15: ABCD, CDAB, BADC, DCBA
    assert encode(np.array([123456789]), "int32").tolist() == [0x075B, 0xCD15]
    assert encode(np.array([123456789]), "int32", word_order="little").tolist() == [0xCD15,
                                                                                   0x075B]
    assert encode(np.array([123456789]), "int32", byte_order="little").tolist() == [0x5B07,
                                                                                   0x15CD]
    assert decode(np.array([0x3F80, 0x0000]), "float32").tolist() == [1.0]


def test_contiguous_tags_share_one_read_up_to_125_registers():
    spans = [Span(f"t{i}", "holding", i * 2, 2) for i in range(70)]  # 140 registers
    reads = plan_reads(spans)
    assert [(r.address, r.count) for r in reads] == [(0, 124), (124, 16)]
    assert all(p[2] == 2 for r in reads for p in r.parts)  # no tag split across reads


def test_gaps_split_reads_unless_allowed():
    spans = [Span("a", "input", 0, 1), Span("b", "input", 3, 2), Span("c", "coil", 0, 1),
             Span("d", "coil", 1999, 1), Span("e", "coil", 2000, 1)]
    assert [(r.table, r.address, r.count) for r in plan_reads(spans)] == [
        ("coil", 0, 1), ("coil", 1999, 2), ("input", 0, 1), ("input", 3, 2)]
    merged = plan_reads(spans, max_gap=2)
    assert Read("input", 0, 5, (("a", 0, 1), ("b", 3, 2))) in merged
    assert len(merged) == 3
    assert len(plan_reads([Span(f"c{i}", "coil", i, 1) for i in range(2001)])) == 2


def test_long_blocks_are_split_at_the_protocol_limit():
    assert [(r.address, r.count) for r in split_block("input", 2, 300)] == [
        (2, 125), (127, 125), (252, 50)]


def test_simulator_tags_decode_to_the_model_values():
    tm = parse_tagmap(simulator_tagmap(port=1))
    poller = TagPoller(tm)
    assert [(r.table, r.address, r.count) for r in poller.reads] == [
        ("coil", 0, 1), ("discrete", 0, 1), ("holding", 0, 13)]

    class Fake:
        def read(self, table, address, count):
            if table == "holding":
                return process_registers(12.3)[address:address + count]
            return [1] * count

    row = dict(zip(poller.names, poller.poll(Fake()), strict=True))
    want = process_values(12.3)
    for name, (_, kind, _, scale, _) in PROCESS_TAGS.items():
        tol = scale if kind.startswith(("int", "uint")) else 1e-5 * abs(want[name])
        assert abs(row[name] - want[name]) <= tol, name
    assert row["running"] == 1.0 and row["door_closed"] == 1.0

