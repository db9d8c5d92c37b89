"""Recordings hand over to the snapshot writer: channels, blocks, times, labels, provenance."""

from __future__ import annotations

import numpy as np

from app.data.acquire.loop import acquire
from app.data.csv.importer import import_csv
from app.data.csv.options import CsvOptions
from app.data.recording import Recording
from app.data.snapshot import SnapshotWriter, read_meta, read_recordings
from app.data.tagmap.load import parse_tagmap
from app.devices.sim.tagmap import simulator_tagmap


def write_snapshot(rec: Recording, path):
    with SnapshotWriter(path, list(rec.channels), rec.nominal_rate(), rec.provenance) as w:
        w.begin_recording(rec.name, label=rec.label or "", start_time=rec.start_time_iso())
        for block, t in rec.blocks():
            w.write(block, t)
        w.end_recording(interrupted=rec.interrupted)
        return w.finish()


def test_csv_recording_to_snapshot(csv_file, tmp_path):
    rec = import_csv(csv_file("time,a [bar],b\n0,1,2\n0.5,2,3\n1.0,x,4\n1.5,4,5\n2,5,6\n"),
                     CsvOptions(label="good"))
    meta = write_snapshot(rec, tmp_path / "s.parquet")
    assert meta["channels"] == [{"name": "a", "unit": "bar", "scale": ""},
                                {"name": "b", "unit": "", "scale": ""}]
    assert meta["sample_rate"] == 2.0 and meta["provenance"]["sha256"]
    info, data = next(read_recordings(tmp_path / "s.parquet", read_meta(tmp_path / "s.parquet")))
    assert info.label == "good" and info.n_samples == 4
    assert data.tolist() == [[1.0, 2.0, 4.0, 5.0], [2.0, 3.0, 5.0, 6.0]]
    rec.discard()


def test_acquired_waveform_to_snapshot(sim, tmp_path):
    tm = parse_tagmap(simulator_tagmap(port=sim.port, waveform_len=512, poll_rate_hz=10))
    res = acquire(tm, duration_s=0.6, work_dir=tmp_path)
    for rec in res.recordings:
        meta = write_snapshot(rec, tmp_path / f"{rec.name}.parquet")
        assert meta["recordings"][0]["n_samples"] == rec.num_rows
        assert meta["recordings"][0]["start_time"].endswith("+00:00")
    vib = res.recording("vibration")
    assert vib.nominal_rate() == 12000.0
    t = np.concatenate([t for _, t in vib.blocks()])
    assert t[0] == 0.0 and np.all(np.diff(t) > 0)
    res.discard()
