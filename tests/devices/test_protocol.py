"""The register map is defined once, fits Modbus limits, and the docs show exactly it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.devices.protocol import registers as r
from app.devices.protocol import words as w
from app.fieldbus import timing
from app.fieldbus.limits import READ_REGISTERS, WRITE_REGISTERS

DOC = Path(__file__).resolve().parents[2] / "docs" / "controller-protocol.md"


def test_fields_do_not_overlap_and_pages_fit_one_read():
    assert len(r.FIELDS) == sum(len(block) for block in r.BLOCKS.values()), "a name twice"
    for table in ("input", "holding"):
        fields = sorted((f for f in r.FIELDS.values() if f.table == table),
                        key=lambda f: f.address)
        for a, b in zip(fields, fields[1:], strict=False):
            assert a.end <= b.address, (a.name, b.name)
    assert r.IDENTITY_COUNT <= READ_REGISTERS and r.STATUS_COUNT <= READ_REGISTERS
    assert r.LIVE_HEAD_COUNT <= READ_REGISTERS and r.SECURITY_COUNT <= READ_REGISTERS
    assert r.COMMAND_COUNT <= WRITE_REGISTERS
    assert r.WINDOW_HEADER_REGS + r.WINDOW_DATA_REGS == 123 == timing.FC16_MAX_REGS
    # 123 registers: 9 + 246 = 255 bytes, the largest function-16 RTU frame (256 max).
    assert timing.FC16_REQUEST_OVERHEAD + 2 * WRITE_REGISTERS <= 256


@pytest.mark.parametrize("block", sorted(r.BLOCKS))
def test_docs_show_the_map_from_the_code(block):
    assert r.markdown_table(block) in DOC.read_text(encoding="utf-8"), \
        f"docs/controller-protocol.md is out of date for the {block} block"


def test_word_codecs_round_trip():
    assert w.words_u32(w.u32_words(0xDEADBEEF)) == 0xDEADBEEF
    assert w.words_ascii(w.ascii_words("PLML", 2)) == "PLML"
    assert w.ascii_words("PLML", 2) == [0x504C, 0x4D4C]
    assert w.words_ascii(w.ascii_words("héllo", 4)) == "h?llo"
    sha = "ab" * 32
    assert w.words_sha(w.sha_words(sha)) == sha and w.words_sha(w.sha_words(None)) is None
    x = np.array([1.5, -2.25, 3e-7])
    assert np.allclose(w.words_f32(w.f32_words(x)), x, rtol=1e-7)
    assert w.f32_words([1.0]) == [0x3F80, 0x0000]
    assert w.words_bytes(w.bytes_words(b"abc"), 3) == b"abc"


def test_pages_are_sealed_with_crc32():
    page = r.place([0] * r.STATUS_COUNT, r.STATUS_BASE, {"state": 6, "error_text": "x"})
    r.seal(page, r.FIELDS["status_crc"], r.STATUS_BASE)
    assert r.sealed(page, r.FIELDS["status_crc"], r.STATUS_BASE)
    page[0] ^= 1
    assert not r.sealed(page, r.FIELDS["status_crc"], r.STATUS_BASE)


def test_fc16_ceiling_at_115200():
    # 255 + 8 bytes and two 3.5-character gaps at 11 bits a character.
    assert timing.fc16_transaction_seconds(123, 115200) == pytest.approx(270 * 11 / 115200)
    assert timing.fc16_ceiling_bytes_per_s(115200) == pytest.approx(9541.8, abs=0.1)
