"""Acquisition over Modbus TCP from the simulator: data, faults, link losses, crash recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from app.core.clock import FakeClock
from app.core.progress import CancelToken
from app.data.acquire.loop import acquire
from app.data.acquire.session import MANIFEST, recover
from app.data.tagmap.load import parse_tagmap
from app.devices.sim.registers import SEQ_ADDRESS
from app.devices.sim.simulator import ModbusSimulator
from app.devices.sim.tagmap import simulator_tagmap
from app.fieldbus import ExceptionResponse, LinkLost, LinkTimeout
from tests.data.conftest import WAVE_LEN
from tests.devices.kit import wait_for

ROOT = Path(__file__).resolve().parents[2]


def tagmap(sim, **kw):
    kw.setdefault("waveform_len", WAVE_LEN)
    kw.setdefault("poll_rate_hz", 20.0)
    return parse_tagmap(simulator_tagmap(port=sim.port, **kw))


class Device:
    """The simulator with its own clock, moved by the test: the device writes its next
    waveform buffer exactly when the test says, never in the middle of a read because the
    machine was slow."""

    def __init__(self, wave) -> None:
        self.clock = FakeClock(frozen=True)
        self.period = WAVE_LEN / 12_000.0
        self.sim = ModbusSimulator(waveform=wave, buffer_len=WAVE_LEN,
                                   clock=self.clock.monotonic)
        self.clock.advance(self.period / 2)  # mid-buffer: clear of rounding at the edges

    def step(self, buffers: int = 1) -> None:
        """Let the device write ``buffers`` more waveform buffers."""
        self.clock.advance(buffers * self.period)


@pytest.fixture
def device(wave) -> Iterator[Device]:
    dev = Device(wave)
    with dev.sim:
        dev.sim.start_tcp()
        yield dev
    assert not dev.sim.running


class Rows:
    """An ``on_row`` callback that counts rows and runs ``at[n]`` on the n-th: events of the
    recording itself decide when a fault starts or the recording stops."""

    def __init__(self) -> None:
        self.n = 0
        self.at: dict[int, Callable[[], None]] = {}
        self.times: list[float] = []

    def on(self, n: int, fn: Callable[[], None]) -> Rows:
        self.at[n] = fn
        return self

    def __call__(self, t: float, values) -> None:
        self.n += 1
        self.times.append(t)
        if (fn := self.at.get(self.n)) is not None:
            fn()


def test_records_tags_and_waveform_blocks(device, wave, tmp_path):
    seen_blocks = []
    token = CancelToken()
    rows = Rows()

    def on_block(name, t, v) -> None:
        seen_blocks.append(len(v))
        device.step()  # the device writes its next buffer once this one was read
        if len(seen_blocks) == 20:
            token.cancel()
    res = acquire(tagmap(device.sim), duration_s=None, cancel=token, work_dir=tmp_path,
                  on_row=rows, on_block=on_block)
    assert res.end_reason == "stopped" and not res.interrupted and res.error is None
    tags = res.recording("tags")
    table = tags.read_table()
    assert tags.num_rows == rows.n >= 1
    t = table.column("t").to_numpy()
    assert np.all(np.diff(t) > 0) and abs(t[0] - time.time()) < 60
    temp = table.column("temperature").to_numpy()
    assert np.all((temp >= 54.9) & (temp <= 65.1))
    assert tags.units["pressure"] == "bar" and tags.provenance["source"] == "modbus"
    assert tags.provenance["tagmap_sha256"] == res.recording("tags").provenance["tagmap_sha256"]
    vib = res.recording("vibration")
    # Every buffer the device wrote was read, whole: none torn, none missed.
    assert res.stats.blocks["vibration"] == 20 == len(seen_blocks)
    assert res.stats.missed_buffers["vibration"] == 0 == res.stats.torn_buffers["vibration"]
    assert vib.sample_rate == 12000.0 and vib.num_rows == WAVE_LEN * 20
    vt = vib.read_table()
    seq = vt.column("seq").to_numpy()
    values = vt.column("vibration").to_numpy()
    k = seq[0]
    idx = np.arange(k * WAVE_LEN, (k + 1) * WAVE_LEN) % len(wave)
    assert np.array_equal(values[:WAVE_LEN], wave[idx].astype(np.float32).astype(float))
    blocks = np.unique(seq)
    assert blocks[-1] - blocks[0] + 1 == len(blocks) == 20
    ts = vt.column("t").to_numpy()
    steps = np.diff(ts)[np.diff(seq) == 0]
    assert np.allclose(steps, 1 / 12000.0, rtol=0, atol=1e-6)  # unix-time float64 ULP
    assert res.stats.requests > tags.num_rows * 3 and res.stats.timeouts == 0
    res.discard()
    assert not any(tmp_path.iterdir())


def test_exception_02_at_start_names_code_and_registers(sim, tmp_path):
    sim.faults.exceptions[("holding", 12)] = 2
    with pytest.raises(ExceptionResponse) as info:
        acquire(tagmap(sim), duration_s=1.0, work_dir=tmp_path)
    assert info.value.exception_code == 2
    assert "exception 02 illegal data address" in str(info.value)
    assert "read holding registers 0-12" in str(info.value)
    assert "[tags temperature, speed, pressure, flow, cycles, energy and 1 more]" in str(
        info.value)
    assert not any(tmp_path.iterdir())  # nothing recorded


def test_exception_mid_recording_ends_it_keeping_the_samples(sim, tmp_path):
    rows = Rows().on(6, lambda: sim.faults.exceptions.update({("holding", 12): 2}))
    res = acquire(tagmap(sim, waveform_len=None), duration_s=None, work_dir=tmp_path,
                  on_row=rows)
    assert res.end_reason == "device_error" and res.interrupted
    assert "02 illegal data address" in res.error
    assert res.recording("tags").num_rows == 6
    assert res.stats.exceptions[2] == 1


def test_busy_device_skips_a_poll_and_goes_on(sim, tmp_path):
    token = CancelToken()
    busy = ("coil", 0)

    def clear_after_two_busy_answers() -> None:
        wait_for(lambda: sim.faults.answered[busy], lambda n: n >= 2, "two busy answers")
        sim.faults.exceptions.clear()
        rows.on(rows.n + 3, token.cancel)  # three good polls after the busy spell
    helper = threading.Thread(target=clear_after_two_busy_answers, daemon=True)
    rows = Rows().on(3, lambda: (sim.faults.exceptions.update({busy: 6}), helper.start()))
    res = acquire(tagmap(sim, waveform_len=None), duration_s=None, cancel=token,
                  work_dir=tmp_path, on_row=rows)
    helper.join()
    assert res.end_reason == "stopped" and not res.interrupted
    assert res.stats.exceptions[6] >= 2 and res.stats.failed_polls == res.stats.exceptions[6]
    assert res.recording("tags").num_rows >= 6


def test_a_device_that_never_answers_fails_within_the_timeout(sim, tmp_path):
    sim.faults.hang = True
    t0 = time.monotonic()
    with pytest.raises(LinkTimeout, match=r"no answer within 0\.3 s \(tcp:127\.0\.0\.1:\d+ unit 1"):
        acquire(tagmap(sim, timeout_s=0.3), duration_s=60.0, work_dir=tmp_path)
    # Bounded by the timeout (3 silent polls, then reconnects that fail within the
    # reconnect window), not by the 60 s duration; the slack is for a loaded machine.
    assert time.monotonic() - t0 < 3 * 2 * 0.3 + 5.0


def test_nobody_listening_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tm = parse_tagmap(simulator_tagmap(port=port, timeout_s=0.3))
    with pytest.raises(LinkLost, match=f"cannot connect to tcp:127.0.0.1:{port} unit 1"):
        acquire(tm, duration_s=1.0, work_dir=tmp_path)


def test_link_cut_mid_recording_keeps_samples_and_marks_interrupted(device, tmp_path):
    cut_at: list[float] = []

    def cut() -> None:
        cut_at.append(time.monotonic())
        device.sim.cut_link()
    rows = Rows().on(12, cut)
    res = acquire(tagmap(device.sim, timeout_s=0.2, reconnect_timeout_s=0.8), duration_s=60.0,
                  work_dir=tmp_path, on_row=rows, on_block=lambda name, t, v: device.step())
    # Given up within the timeouts and the reconnect window, not at the 60 s duration.
    assert time.monotonic() - cut_at[0] < 3 * 2 * 0.2 + 0.8 + 5.0
    assert res.end_reason == "link_lost" and res.interrupted
    assert "127.0.0.1" in res.error
    tags = res.recording("tags")
    assert tags.interrupted and tags.num_rows == 12
    assert tags.read_table().num_rows == tags.num_rows
    assert res.recording("vibration").num_rows >= WAVE_LEN
    assert len(res.gaps) == 1 and res.gaps[0][1] is None
    assert tags.metadata()[b"plantml"].decode().count('"interrupted": true') == 1


def test_link_dropped_then_back_reconnects_without_restarting(sim, tmp_path):
    token = CancelToken()

    def restore_once_the_loop_is_reconnecting() -> None:
        # Requests after the cut come only from the loop noticing it and probing the link.
        base = sim.requests
        wait_for(lambda: sim.requests, lambda n: n >= base + 2, "probes of the cut link")
        sim.restore_link()
        rows.on(rows.n + 10, token.cancel)  # ten polls after the link came back
    helper = threading.Thread(target=restore_once_the_loop_is_reconnecting, daemon=True)
    rows = Rows().on(8, lambda: (sim.cut_link(), helper.start()))
    res = acquire(tagmap(sim, waveform_len=None, timeout_s=0.2, reconnect_timeout_s=60.0),
                  duration_s=None, cancel=token, work_dir=tmp_path, on_row=rows)
    helper.join()
    assert res.end_reason == "stopped" and res.interrupted
    assert res.stats.link_losses == 1 and res.stats.reconnects == 1
    lost, back = res.gaps[0]
    assert back is not None and back > lost
    t = res.recording("tags").column("t")
    # Ten rows after the restore: the first is the reconnect's probe, recorded just before
    # the link counts as back.
    assert (t < lost).sum() == 8 and len(t) == 18 and (t > back).sum() == 9


def test_cancel_stops_and_keeps_the_recording(sim, tmp_path):
    token = CancelToken()
    res = acquire(tagmap(sim), duration_s=None, cancel=token, work_dir=tmp_path,
                  on_row=Rows().on(5, token.cancel))
    assert res.end_reason == "stopped" and not res.interrupted
    assert res.recording("tags").num_rows == 5


def test_missed_buffers_are_counted(device, tmp_path):
    tm = tagmap(device.sim)
    wf = tm.waveforms[0]
    # Check the counter only every 4 buffers' time, and let the device write 4 buffers
    # after each one read: three of every four go unseen and must be counted.
    slow = parse_tagmap(tm.text.replace(f"sequence_register = {SEQ_ADDRESS}",
                                        f"sequence_register = {SEQ_ADDRESS}\n"
                                        f"check_rate_hz = {1 / (4 * wf.period_s)}"))
    token = CancelToken()
    blocks = []

    def on_block(name, t, v) -> None:
        blocks.append(len(v))
        device.step(4)
        if len(blocks) == 6:
            token.cancel()
    res = acquire(slow, duration_s=None, cancel=token, work_dir=tmp_path, on_block=on_block)
    st = res.stats
    assert st.blocks["vibration"] == 6 and st.torn_buffers["vibration"] == 0
    assert st.missed_buffers["vibration"] == 3 * (6 - 1)
    seq = np.unique(res.recording("vibration").column("seq"))
    assert seq[-1] - seq[0] + 1 == len(seq) + st.missed_buffers["vibration"]


_CHILD = """
import sys
from pathlib import Path
import numpy as np
from app.core.clock import FakeClock
from app.data.acquire.loop import acquire
from app.data.tagmap.load import parse_tagmap
from app.devices.sim.simulator import ModbusSimulator
from app.devices.sim.tagmap import simulator_tagmap
clock = FakeClock(frozen=True)
period = 256 / 12000.0

def on_row(t, values):
    clock.advance(period)  # the device writes one waveform buffer a poll
    print(repr(t), flush=True)  # the parent kills on these lines, not after a time

with ModbusSimulator(waveform=np.sin(np.arange(50000) / 10.0), buffer_len=256,
                     clock=clock.monotonic) as sim:
    clock.advance(period / 2)  # mid-buffer: clear of rounding at the edges
    port = sim.start_tcp()
    tm = parse_tagmap(simulator_tagmap(port=port, waveform_len=256, poll_rate_hz=50))
    acquire(tm, duration_s=600, work_dir=Path(sys.argv[1]), on_row=on_row)
"""
ROWS_BEFORE_KILL = 100


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_crash_loses_at_most_the_last_second(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(tmp_path)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        reported = [float(proc.stdout.readline()) for _ in range(ROWS_BEFORE_KILL)]
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    folder = next(p for p in tmp_path.iterdir() if (p / MANIFEST).exists())
    res = recover(folder)
    assert res.end_reason == "crashed" and res.interrupted
    t = res.recording("tags").column("t")
    # What the child had recorded when it died, minus at most its last second (the spool
    # is flushed every half second): measured on the rows' own times, not the kill's.
    assert len(t) >= ROWS_BEFORE_KILL // 2 and reported[-1] - t[-1] <= 1.0
    n = min(len(t), len(reported))
    assert t[:n].tolist() == reported[:n]  # the rows kept are the rows recorded, in order
    assert res.recording("vibration").num_rows > 0
    assert json.loads((folder / MANIFEST).read_text())["state"] == "recording"
