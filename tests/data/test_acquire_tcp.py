"""Acquisition over Modbus TCP from the simulator: data, faults, link losses, crash recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app.core.progress import CancelToken
from app.data.acquire.loop import acquire
from app.data.acquire.session import MANIFEST, recover
from app.data.tagmap.load import parse_tagmap
from app.devices.sim.registers import SEQ_ADDRESS
from app.devices.sim.tagmap import simulator_tagmap
from app.fieldbus import ExceptionResponse, LinkLost, LinkTimeout
from tests.data.conftest import WAVE_LEN

ROOT = Path(__file__).resolve().parents[2]


def tagmap(sim, **kw):
    kw.setdefault("waveform_len", WAVE_LEN)
    kw.setdefault("poll_rate_hz", 20.0)
    return parse_tagmap(simulator_tagmap(port=sim.port, **kw))


def later(seconds: float, fn) -> threading.Timer:
    timer = threading.Timer(seconds, fn)
    timer.start()
    return timer


def test_records_tags_and_waveform_blocks(sim, wave, tmp_path):
    seen_rows, seen_blocks = [], []
    res = acquire(tagmap(sim), duration_s=1.5, work_dir=tmp_path,
                  on_row=lambda t, v: seen_rows.append(t),
                  on_block=lambda name, t, v: seen_blocks.append(len(v)))
    assert res.end_reason == "duration" and not res.interrupted and res.error is None
    tags = res.recording("tags")
    table = tags.read_table()
    assert 20 <= tags.num_rows <= 32 and len(seen_rows) == tags.num_rows
    t = table.column("t").to_numpy()
    assert np.all(np.diff(t) > 0) and abs(t[0] - time.time()) < 5
    temp = table.column("temperature").to_numpy()
    assert np.all((temp >= 54.9) & (temp <= 65.1))
    assert tags.units["pressure"] == "bar" and tags.provenance["source"] == "modbus"
    assert tags.provenance["tagmap_sha256"] == res.recording("tags").provenance["tagmap_sha256"]
    vib = res.recording("vibration")
    assert vib.sample_rate == 12000.0 and vib.num_rows == WAVE_LEN * res.stats.blocks["vibration"]
    vt = vib.read_table()
    seq = vt.column("seq").to_numpy()
    values = vt.column("vibration").to_numpy()
    k = seq[0]
    idx = np.arange(k * WAVE_LEN, (k + 1) * WAVE_LEN) % len(wave)
    assert np.array_equal(values[:WAVE_LEN], wave[idx].astype(np.float32).astype(float))
    blocks = np.unique(seq)
    missed = res.stats.missed_buffers["vibration"]
    assert blocks[-1] - blocks[0] + 1 == len(blocks) + missed
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
    timer = later(0.6, lambda: sim.faults.exceptions.update({("holding", 12): 2}))
    res = acquire(tagmap(sim, waveform_len=None), duration_s=5.0, work_dir=tmp_path)
    timer.join()
    assert res.end_reason == "device_error" and res.interrupted
    assert "02 illegal data address" in res.error
    assert res.recording("tags").num_rows >= 5
    assert res.stats.exceptions[2] == 1


def test_busy_device_skips_a_poll_and_goes_on(sim, tmp_path):
    timer = later(0.3, lambda: sim.faults.exceptions.update({("coil", 0): 6}))
    timer2 = later(0.5, sim.faults.exceptions.clear)
    res = acquire(tagmap(sim, waveform_len=None), duration_s=1.0, work_dir=tmp_path)
    timer.join()
    timer2.join()
    assert res.end_reason == "duration" and not res.interrupted
    assert res.stats.exceptions[6] >= 1 and res.stats.failed_polls == res.stats.exceptions[6]


def test_a_device_that_never_answers_fails_within_the_timeout(sim, tmp_path):
    sim.faults.hang = True
    t0 = time.monotonic()
    with pytest.raises(LinkTimeout, match=r"no answer within 0\.3 s \(tcp:127\.0\.0\.1:\d+ unit 1"):
        acquire(tagmap(sim, timeout_s=0.3), duration_s=5.0, work_dir=tmp_path)
    assert time.monotonic() - t0 < 1.5


def test_nobody_listening_is_a_clear_error(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tm = parse_tagmap(simulator_tagmap(port=port, timeout_s=0.3))
    with pytest.raises(LinkLost, match=f"cannot connect to tcp:127.0.0.1:{port} unit 1"):
        acquire(tm, duration_s=1.0, work_dir=tmp_path)


def test_link_cut_mid_recording_keeps_samples_and_marks_interrupted(sim, tmp_path):
    timer = later(0.8, sim.cut_link)
    t0 = time.monotonic()
    res = acquire(tagmap(sim, timeout_s=0.2, reconnect_timeout_s=0.8), duration_s=10.0,
                  work_dir=tmp_path)
    timer.join()
    assert time.monotonic() - t0 < 4.0
    assert res.end_reason == "link_lost" and res.interrupted
    assert "127.0.0.1" in res.error
    tags = res.recording("tags")
    assert tags.interrupted and 10 <= tags.num_rows <= 20
    assert tags.read_table().num_rows == tags.num_rows
    assert res.recording("vibration").num_rows > 0
    assert len(res.gaps) == 1 and res.gaps[0][1] is None
    assert tags.metadata()[b"plantml"].decode().count('"interrupted": true') == 1


def test_link_dropped_then_back_reconnects_without_restarting(sim, tmp_path):
    timer = later(0.5, sim.cut_link)
    timer2 = later(1.0, sim.restore_link)
    res = acquire(tagmap(sim, timeout_s=0.2, reconnect_timeout_s=5.0), duration_s=2.5,
                  work_dir=tmp_path)
    timer.join()
    timer2.join()
    assert res.end_reason == "duration" and res.interrupted
    assert res.stats.link_losses == 1 and res.stats.reconnects == 1
    lost, back = res.gaps[0]
    assert back is not None and 0.3 < back - lost < 2.0
    t = res.recording("tags").column("t")
    assert (t < lost).sum() >= 5 and (t > back).sum() >= 10


def test_cancel_stops_and_keeps_the_recording(sim, tmp_path):
    token = CancelToken()
    timer = later(0.5, token.cancel)
    res = acquire(tagmap(sim), duration_s=None, cancel=token, work_dir=tmp_path)
    timer.join()
    assert res.end_reason == "stopped" and not res.interrupted
    assert res.recording("tags").num_rows >= 5


def test_missed_buffers_are_counted(sim, tmp_path):
    tm = tagmap(sim)
    wf = tm.waveforms[0]
    # Check the counter only every 4 buffers: most buffers go unseen and must be counted.
    slow = parse_tagmap(tm.text.replace(f"sequence_register = {SEQ_ADDRESS}",
                                        f"sequence_register = {SEQ_ADDRESS}\n"
                                        f"check_rate_hz = {1 / (4 * wf.period_s)}"))
    res = acquire(slow, duration_s=1.2, work_dir=tmp_path)
    st = res.stats
    assert st.missed_buffers["vibration"] >= 2 * st.blocks["vibration"] - 2
    seq = np.unique(res.recording("vibration").column("seq"))
    assert seq[-1] - seq[0] + 1 == len(seq) + st.missed_buffers["vibration"]


_CHILD = """
import sys, time
from pathlib import Path
import numpy as np
from app.data.acquire.loop import acquire
from app.data.tagmap.load import parse_tagmap
from app.devices.sim.simulator import ModbusSimulator
from app.devices.sim.tagmap import simulator_tagmap
with ModbusSimulator(waveform=np.sin(np.arange(50000) / 10.0), buffer_len=256) as sim:
    port = sim.start_tcp()
    tm = parse_tagmap(simulator_tagmap(port=port, waveform_len=256, poll_rate_hz=50))
    print("recording", time.time(), flush=True)
    acquire(tm, duration_s=60, work_dir=Path(sys.argv[1]))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL")
def test_a_crash_loses_at_most_the_last_second(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(tmp_path)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("recording"), line
        time.sleep(2.5)
        killed_at = time.time()
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()
    folder = next(p for p in tmp_path.iterdir() if (p / MANIFEST).exists())
    res = recover(folder)
    assert res.end_reason == "crashed" and res.interrupted
    t = res.recording("tags").column("t")
    assert len(t) > 50 and killed_at - t[-1] <= 1.0 + 0.1
    assert res.recording("vibration").num_rows > 0
    assert json.loads((folder / MANIFEST).read_text())["state"] == "recording"
