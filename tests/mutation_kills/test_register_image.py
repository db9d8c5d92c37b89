"""The controller's input-register image read region by region, at odd offsets and lengths, as
a Modbus master splitting a large read would (mutation testing found these reads unchecked)."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest

from app.devices.controller.image import WAVE_REGS, RegisterImage
from app.devices.controller.sensor import ReplaySensor
from app.devices.controller.transfer import Transfer
from app.devices.protocol import registers as r
from app.devices.protocol.words import u32_words, words_f32
from tests.devices.kit import make_runtime
from tests.packages.kit import Kit


def _runtime(tmp_path: Path, **kw):
    return make_runtime(Kit(root=tmp_path), tmp_path / "box", **kw)


def _reserved(block: str, base: int, count: int) -> list[int]:
    used = {a for f in r.BLOCKS[block] for a in range(f.address, f.end)}
    return [a for a in range(base, base + count) if a not in used]


# The identity page has no reserved register left since IR 15 (session_takeover_s).
@pytest.mark.parametrize("block,base,count", [
    ("status", r.STATUS_BASE, r.STATUS_COUNT),
])
def test_reserved_registers_of_a_page_read_zero(tmp_path, block, base, count):
    image = RegisterImage(_runtime(tmp_path))
    page = image.read(base, count)
    assert page is not None and len(page) == count
    reserved = _reserved(block, base, count)
    assert reserved, "the page has no reserved register to check"
    assert [page[a - base] for a in reserved] == [0] * len(reserved)


def test_feature_tables_read_back_in_pieces(tmp_path):
    rt = _runtime(tmp_path)
    rows = np.array([[1.5, -2.0, 3.25], [2.5, 0.0, -1.25], [0.5, 4.0, 1.0]])
    for row in rows:
        rt.stats.update(row)
    rt.features = rows[-1]
    image = RegisterImage(rt)
    for name, base, want in (("features", 400, rows[-1]), ("feature_mean", 700, rows.mean(0)),
                             ("feature_m2", 1000, rt.stats.m2)):
        whole = image.read(base, 2 * r.MAX_FEATURES)
        assert whole is not None and len(whole) == 2 * r.MAX_FEATURES, name
        values = words_f32(whole)
        assert np.allclose(values[:3], want) and not values[3:].any(), name
        # the second value alone, and a read that ends in the middle of the table
        assert words_f32(image.read(base + 2, 2)).tolist() == pytest.approx([want[1]]), name
        assert image.read(base + 4, 6) == whole[4:10], name


def _sensor(scale: float) -> ReplaySensor:
    data = scale * np.arange(2 * 40, dtype=np.float32).reshape(2, 40)
    return ReplaySensor(data, 1000.0, block=8)


def test_waveform_head_and_samples_channel_after_channel(tmp_path):
    sensor = _sensor(1.0)
    image = RegisterImage(_runtime(tmp_path, sensor=sensor))
    sensor.advance()
    sensor.advance()
    seq, block = sensor.current
    head = image.read(r.WAVE_BASE, r.WAVE_HEAD_COUNT)
    assert head is not None
    assert head[:4] == [seq, 8, 2, 0] and seq == 2
    assert words_f32(head[4:6]).tolist() == [1000.0]
    samples = words_f32(image.read(r.WAVE_BASE + r.WAVE_HEAD_COUNT, 2 * 16))
    assert samples.tolist() == block.reshape(-1).tolist()
    assert samples[:8].tolist() == list(range(8, 16))  # channel 0 first, then channel 1
    # a read in the middle and the unused rest of the buffer
    assert words_f32(image.read(r.WAVE_BASE + r.WAVE_HEAD_COUNT + 2 * 9, 4)).tolist() == \
        block.reshape(-1)[9:11].tolist()
    tail = image.read(r.WAVE_BASE + r.WAVE_HEAD_COUNT + 2 * 16, 100)
    assert tail == [0] * 100


def test_waveform_sequence_wraps_at_16_bits(tmp_path):
    sensor = _sensor(1.0)
    image = RegisterImage(_runtime(tmp_path, sensor=sensor))
    sensor.seq = 0x10000 + 2  # the next block is number 0x10003
    sensor.advance()
    assert image.read(r.WAVE_BASE, 1) == [3]


def test_waveform_follows_a_new_sensor_with_the_same_sequence(tmp_path):
    rt = _runtime(tmp_path, sensor=_sensor(1.0))
    image = RegisterImage(rt)
    rt.sensor.advance()
    first = image.read(r.WAVE_BASE + r.WAVE_HEAD_COUNT, 32)
    rt.sensor = _sensor(-1.0)
    rt.sensor.advance()
    second = image.read(r.WAVE_BASE + r.WAVE_HEAD_COUNT, 32)
    assert words_f32(second).tolist() == (-words_f32(first)).tolist() != words_f32(first).tolist()


def test_waveform_without_a_sensor_reads_zeros(tmp_path):
    image = RegisterImage(_runtime(tmp_path, sensor=None))
    assert image.read(r.WAVE_BASE, 10) == [0] * 10
    assert image.read(r.WAVE_BASE + WAVE_REGS - 3, 3) == [0] * 3


def test_chunk_digests_at_any_offset_and_length(tmp_path):
    rt = _runtime(tmp_path)
    data = bytes(range(7, 7 + 22))
    transfer = Transfer(len(data), len(data), "0" * 64, 4, False)
    for offset in range(0, len(data), 4):
        chunk = data[offset:offset + 4]
        transfer.accept(offset, chunk, zlib.crc32(chunk))
    rt.machine.transfer = transfer
    image = RegisterImage(rt)
    crcs = [zlib.crc32(data[i:i + 4]) for i in range(0, len(data), 4)]
    assert len(crcs) == 6
    regs = [w for crc in crcs for w in u32_words(crc)] + [0] * 8
    for start in range(len(regs) - 6):
        for count in range(1, 7):
            assert image.read(r.DIGEST_BASE + start, count) == regs[start:start + count], \
                (start, count)
