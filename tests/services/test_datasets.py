"""Dataset snapshots through the services: immutable, content-addressed, labelled, audited."""

from __future__ import annotations

import numpy as np
import pyarrow.parquet as pq
import pytest

from app.core import faults
from app.core.errors import IntegrityError, PermissionDenied, StorageError, UsageError
from app.core.records import ChannelInfo
from app.core.roles import Action
from app.services.audit import AuditFilter
from app.services.datasets import RecordingInput
from app.store.durable import TEMP_MARK
from tests.conftest import CWRU


def _recordings(n=3, samples=5000, seed=1):
    rng = np.random.default_rng(seed)
    return [RecordingInput(name=f"run{i}", data=rng.normal(size=(2, samples + i)),
                           label=f"class{i % 2}") for i in range(n)]


def _create(services, who, recs, name="pump vibration"):
    return services.datasets.create_from_arrays(
        who, action=Action.DATA_IMPORT, name=name,
        channels=[ChannelInfo("acc_x", "g"), ChannelInfo("acc_y", "g")], sample_rate=12000.0,
        provenance={"source": "test", "file_sha256": "0" * 64}, recordings=recs)


def test_snapshot_roundtrip_is_named_by_its_hash_and_audited(services, people):
    eng = people["engineer"]
    recs = _recordings()
    info = _create(services, eng, recs)
    path = services.ctx.blobs.path_of(info.dataset_id)
    assert services.ctx.blobs.hash_file(path) == info.dataset_id
    meta = pq.read_metadata(path)
    assert meta.schema.to_arrow_schema().names == ["recording", "t", "acc_x", "acc_y"]
    assert meta.row_group(0).column(2).compression == "ZSTD"
    assert [r.n_samples for r in info.recordings] == [5000, 5001, 5002]
    assert {(lb.recording, lb.label) for lb in info.labels} == {(0, "class0"), (1, "class1"),
                                                                (2, "class0")}
    loaded, recordings = services.datasets.load(eng, dataset=info.dataset_id[:10])
    for (rinfo, data), rec in zip(recordings, recs, strict=True):
        assert rinfo.name == rec.name
        np.testing.assert_array_equal(data, rec.data)
    events = services.audit.show(people["admin"], AuditFilter(action="dataset."))
    assert events[0].object == f"dataset:{info.dataset_id}"
    assert events[0].new["samples"] == 15003


def test_same_content_twice_is_one_snapshot(services, people):
    a = _create(services, people["engineer"], _recordings())
    b = _create(services, people["engineer"], _recordings(), name="again")
    assert a.dataset_id == b.dataset_id
    assert len(services.datasets.list(people["engineer"])) == 1


def test_only_engineers_create_and_label(services, people):
    with pytest.raises(PermissionDenied):
        _create(services, people["operator"], _recordings())
    info = _create(services, people["engineer"], _recordings())
    with pytest.raises(PermissionDenied):
        services.datasets.label(people["auditor"], dataset=info.dataset_id, recording=0,
                                label="fault")
    lb = services.datasets.label(people["engineer"], dataset=info.dataset_id, recording=1,
                                 label="outer race fault", t_start=0.1, t_end=0.3)
    assert lb.t_start == 0.1
    shown = services.datasets.show(people["auditor"], dataset=info.dataset_id)
    assert any(x.label == "outer race fault" and x.t_end == 0.3 for x in shown.labels)
    with pytest.raises(UsageError, match="recordings 0 to 2"):
        services.datasets.label(people["engineer"], dataset=info.dataset_id, recording=7,
                                label="x")
    with pytest.raises(UsageError, match="start before end"):
        services.datasets.label(people["engineer"], dataset=info.dataset_id, recording=0,
                                label="x", t_start=0.5, t_end=0.2)


def test_altered_snapshot_file_is_refused(services, people):
    info = _create(services, people["engineer"], _recordings())
    path = services.ctx.blobs.path_of(info.dataset_id)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="altered"):
        services.datasets.load(people["engineer"], dataset=info.dataset_id)


def test_bad_input_is_refused_and_nothing_registered(services, people):
    eng = people["engineer"]
    bad = [RecordingInput(name="r", data=np.zeros((3, 10)))]
    with pytest.raises(UsageError, match="shape"):
        _create(services, eng, bad)
    assert services.datasets.list(eng) == []
    assert not list(services.home.rglob(f"{TEMP_MARK}*"))


@pytest.mark.parametrize("kind", ["fsync", "rename", "commit"])
def test_storage_failure_registers_nothing_and_leaves_no_file(services, people, kind):
    eng = people["engineer"]
    faults.install(faults.FaultPlan(fail_at=1, kinds=(kind,)))
    with pytest.raises(StorageError):
        _create(services, eng, _recordings())
    faults.install(None)
    assert services.datasets.list(eng) == []
    assert list(services.ctx.blobs.digests()) == []
    assert not list(services.home.rglob(f"{TEMP_MARK}*"))


def test_cwru_recordings_import_as_labelled_snapshot(services, people):
    if not CWRU.exists():
        pytest.skip(f"CWRU data not found at {CWRU} (../shared is absent)")
    recs = []
    for path in sorted(CWRU.glob("*.npz"))[:3]:
        with np.load(path) as npz:
            key = next(k for k in npz.files if "DE" in k)
            recs.append(RecordingInput(name=path.stem, data=npz[key].reshape(1, -1),
                                       label=path.stem.split("_", 1)[1]))
    info = services.datasets.create_from_arrays(
        people["engineer"], action=Action.DATA_IMPORT, name="cwru",
        channels=[ChannelInfo("DE", "g")], sample_rate=12000.0, provenance={"source": "cwru"},
        recordings=recs)
    assert info.duration_s > 10
    assert [r.label for r in info.recordings] == [r.label for r in recs]
