"""Issue 12.1 on the controller: the capture ring read over pymodbus TCP from the reference
runtime (HR 1000-, protocol 3): contiguous ids, the replayed samples exactly, the model's own
prediction per window, both CRC-32s checked, a selection frozen while the ring moves, an
evicted window refused, and a protocol-2 controller refused in one sentence."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
import pytest

from app.devices.flash import ControllerClient, DeviceRefused, ProtocolError, flash_package
from app.devices.flash.capture import capture_from, read_window, ring
from app.devices.protocol import registers as r
from app.devices.protocol.words import u32_words, words_f32
from tests.devices.conftest import PATIENT
from tests.devices.kit import OPERATOR, WINDOW, package, replay, wait_for, window_model


def _flashed(controller_factory, kit, **kw):
    sensor = replay()
    ctl = controller_factory(sensor=sensor, **kw)
    assert flash_package(ctl.endpoint, package(kit, 1), policy=PATIENT, signer=OPERATOR).ok
    return ctl, sensor


def _held(c: ControllerClient, n: int) -> None:
    wait_for(lambda: ring(c), lambda x: x.held >= n, f"{n} windows in the capture ring")


def test_capture_reads_contiguous_windows_exactly_as_replayed(controller_factory, kit):
    ctl, sensor = _flashed(controller_factory, kit, capture_ring=4096)
    with ControllerClient.open(ctl.endpoint, PATIENT) as c:
        c.identity()
        _held(c, 12)
        got = capture_from(c, 12)
    assert not got.missed and len(got.windows) == 12
    ids = [w.window_id for w in got.windows]
    assert ids == list(range(ids[0], ids[0] + 12))
    # One window per block of the replay, so consecutive windows are consecutive stretches
    # of the replayed signal: found once, the rest must follow sample for sample.
    signal = np.concatenate([w.samples for w in got.windows], axis=1)
    assert signal.shape == (1, 12 * WINDOW) and signal.dtype == np.float32
    data = sensor.data[0]
    starts = [s for s in range(data.size) if data[s] == signal[0, 0]]
    assert any(np.array_equal(np.take(data, np.arange(s, s + signal.shape[1]), mode="wrap"),
                              signal[0]) for s in starts)
    # Each window carries the prediction its model made; the running model's own output.
    sess = ort.InferenceSession(window_model(1), providers=["CPUExecutionProvider"])
    for w in got.windows:
        label, scores, _ = sess.run(None, {"window": w.samples[np.newaxis]})
        assert w.label == float(label[0]) and np.allclose(w.scores, scores[0], atol=1e-6)
        assert w.valid and w.model_version == 1 and w.rate == sensor.rate
        assert w.model_sha256 == ctl.runtime.status_values()["active_sha256"]
    assert got.data_bytes == 12 * WINDOW * 4


def test_a_selection_stays_frozen_while_the_ring_moves(controller_factory, kit):
    ctl, _ = _flashed(controller_factory, kit, capture_ring=8)
    with ControllerClient.open(ctl.endpoint, PATIENT) as c:
        _held(c, 8)
        first = ring(c)
        win = read_window(c, first.newest)
        assert win is not None
        wait_for(lambda: ring(c), lambda x: x.oldest > first.newest, "the window left the ring")
        page = c.link.read_holding(r.CAPTURE_BASE, r.CAPTURE_COUNT)
        assert r.decode(r.FIELDS["capture_id"], page, r.CAPTURE_BASE) == first.newest
        data = c.link.read_holding(r.CAPTURE_DATA_BASE, WINDOW) + \
            c.link.read_holding(r.CAPTURE_DATA_BASE + WINDOW, WINDOW)
        assert r.sealed(page, r.FIELDS["capture_crc"], r.CAPTURE_BASE)
        assert np.array_equal(words_f32(data).astype(np.float32), win.samples[0])
        # Gone from the ring: selecting it again is refused, and the client says "missed".
        assert read_window(c, first.newest) is None
        with pytest.raises(DeviceRefused, match="exception 03"):
            c.link.write(r.CAPTURE_BASE, u32_words(first.newest))


def test_a_damaged_sample_read_is_caught_by_the_crc_and_read_again(controller_factory, kit,
                                                                    monkeypatch):
    ctl, _ = _flashed(controller_factory, kit, capture_ring=4096)
    with ControllerClient.open(ctl.endpoint, PATIENT) as c:
        _held(c, 2)
        newest = ring(c).newest
        real = c.link.read_holding
        damaged = []

        def flip_once(address, count, what="read"):
            regs = real(address, count, what)
            if address >= r.CAPTURE_DATA_BASE and not damaged:
                damaged.append(address)
                regs[3] ^= 0x0100  # past Modbus's CRC-16: only the window's CRC-32 tells
            return regs
        monkeypatch.setattr(c.link, "read_holding", flip_once)
        win = read_window(c, newest)
        assert damaged and win is not None and c.link.stats.garbled == 1
        clean = read_window(c, newest)
        assert clean is not None and np.array_equal(win.samples, clean.samples)


def test_the_other_capture_registers_refuse_writes(controller_factory, kit):
    ctl, _ = _flashed(controller_factory, kit)
    with ControllerClient.open(ctl.endpoint, PATIENT) as c:
        with pytest.raises(DeviceRefused, match="exception 02"):
            c.link.write(r.CAPTURE_BASE + 2, [5])
        with pytest.raises(DeviceRefused, match="exception 03"):
            c.link.write_one(r.CAPTURE_BASE, 1)  # a window id is two registers
        c.link.write(r.CAPTURE_BASE, [0, 0])  # 0 clears the selection; no proof needed
        page = c.link.read_holding(r.CAPTURE_BASE, r.CAPTURE_COUNT)
        assert r.decode(r.FIELDS["capture_id"], page, r.CAPTURE_BASE) == 0


def test_the_client_refuses_a_protocol_2_controller(controller):
    controller.runtime.protocol_version = 2
    with ControllerClient.open(controller.endpoint, PATIENT) as c, \
            pytest.raises(ProtocolError, match=r"speaks PlantML controller protocol 2, which "
                          r"keeps no windows for capture; this workstation speaks protocol 3 "
                          r"only: update its runtime \(plantml-edge\)$"):
        c.identity()
