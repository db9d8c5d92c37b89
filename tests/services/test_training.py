"""Training through the services on CWRU: accuracy through ONNX, parity gate, reproducibility,
and a real model through approval into a verified package."""

from __future__ import annotations

import pytest

from app.core.errors import IntegrityError, PermissionDenied, UsageError
from app.ml import Recipe
from app.services.audit import AuditFilter
from tests.conftest import CWRU, password_of


@pytest.fixture
def cwru_dataset(services, people):
    if not CWRU.exists():
        pytest.skip(f"CWRU data not found at {CWRU} (../shared is absent)")
    out = services.data_in.import_files(people["engineer"], paths=sorted(CWRU.glob("*.npz")),
                                        name="cwru 0 hp", cwru=True,
                                        channels=["DE"])
    return out.dataset


def test_train_cwru_reaches_target_through_onnx_and_reproduces(services, people, cwru_dataset):
    eng = people["engineer"]
    out = services.training.train(eng, dataset=cwru_dataset.dataset_id[:12], line="cwru-de",
                                  recipe=Recipe(), window=2048, hop=1024)
    v = out.version
    assert (v.ref, v.state) == ("cwru-de:v1", "validated")
    assert out.parity["deployable"] and out.parity["label_agreement"] >= 0.999
    assert v.metrics["accuracy"] >= 0.995
    result = services.training.evaluate(eng, ref=v.ref, dataset=cwru_dataset.dataset_id[:12])
    assert result["accuracy"] >= 0.99  # every window, train and test, through onnxruntime
    again = services.training.train(eng, dataset=cwru_dataset.dataset_id[:12], line="cwru-de",
                                    recipe=Recipe(), window=2048, hop=1024)
    assert again.validation["metrics"] == out.validation["metrics"]
    assert again.version.lineage["model_hash"] == v.lineage["model_hash"]
    assert services.audit.show(people["auditor"], AuditFilter(action="model.evaluate"))


def test_trained_model_goes_through_approval_into_a_package(services, people, cwru_dataset,
                                                           tmp_path):
    eng = people["engineer"]
    v = services.training.train(eng, dataset=cwru_dataset.dataset_id, line="cwru-de",
                                recipe=Recipe(), window=1024, hop=1024).version
    out = services.training.export(eng, ref=v.ref, out=tmp_path / "m.onnx")
    assert out.read_bytes()[:2] == services.registry.artifact(eng, ref=v.ref,
                                                              name="model.onnx")[:2]
    services.approvals.propose(eng, ref=v.ref, password=password_of("engineer1"),
                               hardware_ids=["EDGE-01"], reason="CWRU model")
    services.approvals.decide(people["approver"], ref=v.ref, password=password_of("approver1"),
                              meaning="approved", reason="reports reviewed")
    stick = tmp_path / "stick"
    stick.mkdir()
    res = services.packages.export_to_drive(people["operator"], ref=v.ref, drive_folder=stick)
    summary = services.packages.verify(people["operator"], path=res.path, hardware_id="EDGE-01")
    assert summary.signers == ("engineer:engineer1", "approver:approver1")


def test_unlabelled_recordings_and_roles_are_refused(services, people, cwru_dataset):
    with pytest.raises(PermissionDenied):
        services.training.train(people["operator"], dataset=cwru_dataset.dataset_id,
                                line="x", recipe=Recipe())
    with pytest.raises(UsageError, match="no channel"):
        services.training.train(people["engineer"], dataset=cwru_dataset.dataset_id,
                                line="x", recipe=Recipe(), channels=["nope"])


def test_blocked_model_cannot_be_exported(services, people, tmp_path):
    from tests.services.release_kit import register

    v = register(services, people["engineer"], passed=False)
    with pytest.raises(IntegrityError, match="parity gate"):
        services.training.export(people["engineer"], ref=v.ref, out=tmp_path / "x.onnx")
    assert not (tmp_path / "x.onnx").exists()


def test_time_range_labels_train_on_their_segments(services, people, tmp_path):
    import numpy as np

    from app.data.synthetic import vibration
    from app.services.options import binary_options
    from app.services.recipes import make_recipe

    eng = people["engineer"]
    paths = []
    for r in range(2):
        # Healthy for 5 s, then a bearing fault: one recording, labelled by time range.
        x = np.concatenate([vibration("healthy", 60_000, seed=r),
                            vibration("bearing_fault", 60_000, seed=10 + r)])
        paths.append(tmp_path / f"run{r}.npz")
        np.savez(paths[-1], acc=x)
    ds = services.data_in.import_files(eng, paths=paths, name="runs", binary=binary_options(
        keys=["acc"], sample_rate=12_000.0)).dataset
    with pytest.raises(UsageError, match="no label"):
        services.training.train(eng, dataset=ds.dataset_id, line="seg", recipe=make_recipe(),
                                window=1024, hop=1024)
    for r in range(2):
        services.datasets.label(eng, dataset=ds.dataset_id, recording=r, label="healthy",
                                t_start=0.0, t_end=5.0)
        services.datasets.label(eng, dataset=ds.dataset_id, recording=r, label="bearing",
                                t_start=5.0, t_end=10.0)
    out = services.training.train(eng, dataset=ds.dataset_id, line="seg", recipe=make_recipe(),
                                  window=1024, hop=1024)
    assert out.version.state == "validated"
    assert set(out.validation["metrics"]["classes"]) == {"healthy", "bearing"}
    assert out.validation["metrics"]["accuracy"] >= 0.95
    result = services.training.evaluate(eng, ref=out.version.ref, dataset=ds.dataset_id)
    assert result["accuracy"] >= 0.95 and set(result["labels"]) == {"healthy", "bearing"}
