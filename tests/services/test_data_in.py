"""Data in through the services: file import with its report, Modbus acquisition, audit."""

from __future__ import annotations

import contextlib

import numpy as np
import pytest

from app.core.errors import PermissionDenied, UsageError
from app.core.roles import Action
from app.data.csv.options import CsvOptions
from app.devices.sim.simulator import ModbusSimulator
from app.devices.sim.tagmap import simulator_tagmap
from app.services.audit import AuditFilter
from tests.conftest import CWRU


def test_csv_import_keeps_every_row_accounted_for(services, people, tmp_path):
    path = tmp_path / "pump.csv"
    path.write_text("time,pressure [bar],flow\n0,1.0,2\n0.5,1.1,x\n1.0,1.2,4\n1.5,1.3,5\n",
                    encoding="utf-8")
    out = services.data_in.import_files(people["engineer"], paths=[path], name="pump 3",
                                        csv=CsvOptions(label="normal"))
    rep = out.reports["pump.csv"]
    assert (rep["rows_in"], rep["rows_accepted"], rep["rows_rejected"]) == (4, 3, 1)
    assert any(i["line"] == 3 for i in rep["issues"])
    ds = out.dataset
    assert [c.name for c in ds.channels] == ["pressure", "flow"]
    assert ds.channels[0].unit == "bar" and ds.recordings[0].label == "normal"
    assert ds.recordings[0].name == "pump"
    assert ds.provenance["files"][0]["sha256"]
    events = services.audit.show(people["admin"], AuditFilter(action="dataset.data.import"))
    assert events[0].object == f"dataset:{ds.dataset_id}"


def test_refused_file_registers_nothing_and_is_audited(services, people, tmp_path):
    path = tmp_path / "bad.npz"
    path.write_bytes(b"PK\x03\x04 this is no zip")
    with pytest.raises(UsageError):
        services.data_in.import_files(people["engineer"], paths=[path])
    assert services.datasets.list(people["engineer"]) == []
    refused = services.audit.show(people["admin"], AuditFilter(action="dataset.data.import",
                                                                result="refused"))
    assert refused and "bad.npz" in refused[0].object
    with pytest.raises(PermissionDenied):
        services.data_in.import_files(people["operator"], paths=[path])


def test_cwru_files_become_one_labelled_dataset(services, people):
    if not CWRU.exists():
        pytest.skip(f"CWRU data not found at {CWRU} (../shared is absent)")
    paths = sorted(CWRU.glob("*.npz"))[:2]
    out = services.data_in.import_files(people["engineer"], paths=paths, name="cwru", cwru=True)
    assert [r.label for r in out.dataset.recordings] == ["B_14", "B_21"]
    info, recs = services.datasets.load(people["engineer"], dataset=out.dataset.dataset_id)
    first = next(recs)[1]
    with np.load(paths[0]) as npz:
        de = npz[next(k for k in npz.files if "DE" in k)].ravel()
    np.testing.assert_array_equal(first[0], de)


@contextlib.contextmanager
def _simulated_line(tmp_path):
    """A Modbus simulator on loopback and the tag map that reads it."""
    wave = np.sin(np.arange(48_000) / 7.0)
    with ModbusSimulator(waveform=wave, buffer_len=256) as sim:
        port = sim.start_tcp()
        tagmap = tmp_path / "line3.toml"
        tagmap.write_text(simulator_tagmap(port=port, waveform_len=256, poll_rate_hz=20),
                          encoding="utf-8")
        yield tagmap


def test_acquisition_over_modbus_tcp_becomes_snapshots(services, people, tmp_path):
    with _simulated_line(tmp_path) as tagmap:
        out = services.data_in.acquire(people["engineer"], tagmap=tagmap, duration_s=0.6,
                                       name="line 3")
    assert out.end_reason == "duration" and not out.interrupted
    names = sorted(d.name for d in out.datasets)
    assert names[0].startswith("line 3") and len(out.datasets) >= 2
    wave_ds = next(d for d in out.datasets if d.sample_rate == 12000.0)
    assert wave_ds.provenance["source"] == "modbus" and wave_ds.provenance["tagmap_sha256"]
    assert wave_ds.n_samples >= 256
    events = services.audit.show(people["admin"], AuditFilter(action="dataset.data.acquire"))
    assert len(events) == len(out.datasets)
    assert Action.DATA_ACQUIRE.value == "data.acquire"


def _npz(tmp_path, name, level=1.0, speed=None):
    rng = np.random.default_rng(len(name))
    arrays = {"acc": rng.normal(scale=level, size=4000)}
    if speed is not None:
        arrays["speed"] = speed + rng.normal(scale=2.0, size=4000)
    path = tmp_path / f"{name}.npz"
    np.savez(path, **arrays)
    return path


def test_import_gives_each_file_its_condition_unit_and_scale(services, people, tmp_path):
    from app.services.datasets import conditions_line
    from app.services.options import binary_options

    paths = [_npz(tmp_path, n) for n in ("run1", "run2", "run3")]
    side = tmp_path / "conditions.csv"
    side.write_text("file,condition\nrun1.npz,load=0hp\n", encoding="utf-8")
    out = services.data_in.import_files(
        people["engineer"], paths=paths, binary=binary_options(sample_rate=1000.0),
        condition="load=1hp", condition_file=side, file_conditions={"run2": "load=2hp"},
        units={"acc": "g"}, scales={"*": "100 mV/g"})
    ds = out.dataset
    assert [r.condition for r in ds.recordings] == ["load=0hp", "load=2hp", "load=1hp"]
    assert (ds.channels[0].unit, ds.channels[0].scale) == ("g", "100 mV/g")
    # Stored in the snapshot itself, which is what its hash names.
    again = services.datasets.show(people["auditor"], dataset=ds.dataset_id)
    assert [r.condition for r in again.recordings] == ["load=0hp", "load=2hp", "load=1hp"]
    assert conditions_line(again) == ("conditions: load=0hp x1, load=1hp x1, load=2hp x1; "
                                      "validation holds each of the 3 out in turn")
    event = services.audit.show(people["admin"], AuditFilter(action="dataset.data.import"))[0]
    assert event.new["conditions"] == ["load=0hp", "load=1hp", "load=2hp"]
    with pytest.raises(UsageError, match="'run9' names no file of this import"):
        services.data_in.import_files(people["engineer"], paths=paths,
                                      binary=binary_options(sample_rate=1000.0),
                                      file_conditions={"run9": "x"})
    with pytest.raises(UsageError, match="a unit was given for 'acx', which is not a channel"):
        services.data_in.import_files(people["engineer"], paths=paths,
                                      binary=binary_options(sample_rate=1000.0),
                                      units={"acx": "g"})


def test_condition_from_a_speed_channel_groups_runs_by_rounded_mean(services, people,
                                                                    tmp_path):
    from app.services.options import binary_options

    paths = [_npz(tmp_path, "slow", speed=1198.0), _npz(tmp_path, "slow2", speed=1203.0),
             _npz(tmp_path, "fast", speed=1797.0)]
    ds = services.data_in.import_files(
        people["engineer"], paths=paths, binary=binary_options(sample_rate=1000.0),
        channels=["acc"], condition_channel="speed", condition_step=100,
        units={"acc": "g"}).dataset
    assert [r.condition for r in ds.recordings] == ["speed=1200", "speed=1200", "speed=1800"]
    assert [c.name for c in ds.channels] == ["acc"]  # the speed channel need not be kept


def test_cwru_import_takes_the_motor_load_as_condition(services, people):
    if not CWRU.exists():
        pytest.skip(f"CWRU data not found at {CWRU} (../shared is absent)")
    paths = sorted(CWRU.glob("*.npz"))[:2]
    ds = services.data_in.import_files(people["engineer"], paths=paths, cwru=True,
                                       channels=["DE"], units={"DE": "g"}).dataset
    # The shared CWRU files are all 0 HP: one condition, none to hold out.
    assert {r.condition for r in ds.recordings} == {"load=0hp"}


def test_acquisition_takes_its_condition_from_a_tag_and_scales_from_the_tag_map(
        services, people, tmp_path):
    with _simulated_line(tmp_path) as tagmap:
        with pytest.raises(UsageError, match="no tag 'sped' to take the condition from"):
            services.data_in.acquire(people["engineer"], tagmap=tagmap, duration_s=0.3,
                                     condition_tag="sped")
        out = services.data_in.acquire(people["engineer"], tagmap=tagmap, duration_s=0.6,
                                       name="line 3", condition_tag="speed",
                                       condition_step=50)
    # The simulator's speed tag swings 1794..1800 rpm around 1797.
    assert out.condition == "speed=1800rpm" and not out.condition_note
    for ds in out.datasets:
        assert {r.condition for r in ds.recordings} == {"speed=1800rpm"}
    tags = next(d for d in out.datasets if d.sample_rate != 12000.0)
    temp = next(c for c in tags.channels if c.name == "temperature")
    assert (temp.unit, temp.scale) == ("degC", "raw x 0.1 (tag map 'simulator')")
