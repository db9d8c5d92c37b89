"""Operating conditions: checked text, side files, channel means, and the snapshot format that
keeps them (version 2) while version 1 snapshots stay readable."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from app.core.errors import IntegrityError, UsageError
from app.core.records import ChannelInfo
from app.data.conditions import (
    channel_condition,
    check_condition,
    conditions_for,
    read_condition_file,
)
from app.data.cwru import condition_of, parse_name
from app.data.errors import ImportRefused
from app.data.snapshot import FORMAT, META_KEY, SnapshotWriter, read_meta, read_recordings


def test_condition_text_is_checked():
    assert check_condition("  load=0hp ", "x") == "load=0hp"
    assert check_condition("", "x") == ""
    with pytest.raises(UsageError, match="run3.csv: the condition .* control character"):
        check_condition("load\n0hp", "run3.csv")
    with pytest.raises(UsageError, match="at most 80"):
        check_condition("x" * 81, "run3.csv")


def test_side_file_from_excel_semicolons_bom_and_every_problem_by_line(tmp_path):
    side = tmp_path / "conditions.csv"
    side.write_bytes("\ufeffFile;Condition\nrun1.csv;load=0hp\n\nrun2;load=2hp\n"
                     .encode("utf-8"))
    assert read_condition_file(side) == {"run1.csv": "load=0hp", "run2": "load=2hp"}
    side.write_text("file,condition\nrun1.csv,a\nRUN1.CSV,b\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="line 3: RUN1.CSV is listed again .first on "
                                            "line 2"):
        read_condition_file(side)
    side.write_text("name,load\nrun1.csv,a\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="line 1: the header must name the columns file "
                                            "and condition"):
        read_condition_file(side)
    side.write_text("file,condition\n,a\n", encoding="utf-8")
    with pytest.raises(ImportRefused, match="line 2: the file name is empty"):
        read_condition_file(side)


def test_conditions_match_files_by_path_name_or_stem_and_typos_are_refused(tmp_path):
    paths = [tmp_path / "run1.csv", tmp_path / "run2.csv", tmp_path / "run3.csv"]
    got = conditions_for(paths, per_file={"run1.csv": "load=0hp", "RUN2": "load=2hp"},
                         default="load=1hp")
    assert got == ["load=0hp", "load=2hp", "load=1hp"]
    with pytest.raises(UsageError, match="'run4.csv' names no file of this import "
                                         r"\(run1.csv, run2.csv, run3.csv\)"):
        conditions_for(paths, per_file={"run4.csv": "x"})


def test_a_channel_mean_names_the_condition_rounded_so_runs_group():
    blocks = [np.full(100, 1497.2), np.array([1503.1, np.nan])]
    assert channel_condition("speed", "rpm", blocks, step=100) == "speed=1500rpm"
    assert channel_condition("load", "%", [np.array([49.61, 49.7])]) == "load=49.7%"
    with pytest.raises(UsageError, match="run7: channel speed holds no finite value"):
        channel_condition("speed", "rpm", [np.array([np.nan])], where="run7")


def test_cwru_condition_is_the_motor_load_from_the_name():
    assert condition_of(parse_name("1797_IR_7_DE12")) == "load=0hp"
    assert condition_of(parse_name("1730_Normal")) == "load=3hp"
    assert condition_of(parse_name("1800_Normal")) == ""  # a speed the rig's table lacks


def _write(path, conditions):
    channels = [ChannelInfo("de", "g", "100 mV/g")]
    with SnapshotWriter(path, channels, 1000.0, {"source": "test"}) as w:
        for i, cond in enumerate(conditions):
            w.begin_recording(f"run{i}", label="ok", condition=cond)
            w.write(np.arange(50, dtype=float).reshape(1, -1))
            w.end_recording()
        return w.finish()


def test_snapshot_v2_keeps_conditions_and_scales(tmp_path):
    meta = _write(tmp_path / "s.parquet", ["load=0hp", ""])
    assert meta["format"] == FORMAT == "plantml-snapshot-v2"
    read = read_meta(tmp_path / "s.parquet")
    assert read["channels"] == [{"name": "de", "unit": "g", "scale": "100 mV/g"}]
    infos = [info for info, _ in read_recordings(tmp_path / "s.parquet", read)]
    assert [r.condition for r in infos] == ["load=0hp", ""]


def _rewrite_meta(src, dst, change):
    """Copy a snapshot with its metadata changed, as another PlantML would have written it."""
    meta = json.loads(pq.read_metadata(src).metadata[META_KEY])
    change(meta)
    table = pq.read_table(src)
    with pq.ParquetWriter(dst, table.schema) as writer:
        writer.write_table(table)
        writer.add_key_value_metadata({META_KEY: json.dumps(meta)})


def test_a_v1_snapshot_reads_with_no_condition_and_a_future_one_is_refused(tmp_path):
    _write(tmp_path / "s.parquet", ["load=0hp"])

    def as_v1(meta):  # what PlantML wrote before conditions and scales
        meta["format"] = "plantml-snapshot-v1"
        for r in meta["recordings"]:
            del r["condition"]
        for c in meta["channels"]:
            del c["scale"]

    _rewrite_meta(tmp_path / "s.parquet", tmp_path / "v1.parquet", as_v1)
    meta = read_meta(tmp_path / "v1.parquet")
    [(info, data)] = list(read_recordings(tmp_path / "v1.parquet", meta))
    assert info.condition == "" and info.label == "ok" and data.shape == (1, 50)
    assert ChannelInfo(**meta["channels"][0]).scale == ""

    def as_v9(meta):
        meta["format"] = "plantml-snapshot-v9"

    _rewrite_meta(tmp_path / "s.parquet", tmp_path / "v9.parquet", as_v9)
    with pytest.raises(IntegrityError, match="snapshot format 'plantml-snapshot-v9' is not one "
                                             "this PlantML reads"):
        read_meta(tmp_path / "v9.parquet")
