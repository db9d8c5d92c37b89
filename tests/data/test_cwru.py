"""CWRU bearing files import as labelled 12 kHz recordings."""

from __future__ import annotations

import numpy as np
import pytest

from app.data.cwru import import_cwru, parse_name
from app.data.errors import ImportRefused
from tests.conftest import CWRU

FILES = sorted(CWRU.glob("*.npz")) if CWRU.exists() else []
needs_data = pytest.mark.skipif(not FILES, reason=f"CWRU data not found in {CWRU}")


@needs_data
def test_every_file_name_gives_a_label():
    labels = {parse_name(p.stem)["label"] for p in FILES}
    assert len(labels) == len(FILES) == 10
    assert {"Normal", "B_7", "IR_21", "OR@6_14"} <= labels


def test_name_parsing():
    info = parse_name("1797_OR@6_14_DE12")
    assert info == {"label": "OR@6_14", "rpm": 1797, "load_hp": 0, "fault": "outer race",
                    "fault_diameter_mil": 14, "outer_race_position": "6:00",
                    "sensor_end": "DE", "sample_rate_khz": 12}
    assert parse_name("1797_Normal")["fault"] == "none"
    with pytest.raises(ImportRefused, match="not a CWRU file name"):
        parse_name("pump_data")


@needs_data
@pytest.mark.parametrize("stem", ["1797_Normal", "1797_IR_7_DE12"])
def test_import_keeps_every_sample(tmp_path, stem):
    path = CWRU / f"{stem}.npz"
    rec = import_cwru(path, work_dir=tmp_path)
    with np.load(path) as data:
        keys = sorted(data.files)
        de = data["DE"][:, 0]
    assert rec.label == parse_name(stem)["label"] and rec.sample_rate == 12000.0
    assert sorted(rec.channel_names) == keys and "DE" in rec.channel_names
    assert rec.num_rows == len(de) and rec.report.rows_rejected == 0
    assert np.array_equal(rec.column("DE"), de)
    assert rec.column("t")[-1] == pytest.approx((len(de) - 1) / 12000.0)
    prov = rec.provenance
    assert prov["format"] == "npz" and prov["conditions"]["rpm"] == 1797
    assert len(prov["sha256"]) == 64
    meta = rec.metadata()[b"plantml"].decode()
    assert '"label": ' in meta and '"sample_rate": 12000.0' in meta
    rec.discard()
    assert not any(tmp_path.iterdir())
