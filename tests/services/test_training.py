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


def test_a_class_with_no_held_out_windows_is_refused_naming_class_and_split(services, people):
    import numpy as np

    from app.core.records import ChannelInfo
    from app.core.roles import Action
    from app.data.synthetic import vibration
    from app.services.datasets import RecordingInput
    from app.services.recipes import make_recipe
    from app.services.training import LABEL_RULE

    eng = people["engineer"]
    recs = []
    for r in range(2):  # healthy for 10 s with a bearing fault from 1 s to 4 s
        x = vibration("healthy", 120_000, seed=r)
        x[12_000:48_000] = vibration("bearing_fault", 36_000, seed=10 + r)
        recs.append(RecordingInput(name=f"run{r}", data=x[None], label="healthy"))
    ds = services.datasets.create_from_arrays(
        eng, action=Action.DATA_IMPORT, name="runs", channels=[ChannelInfo("acc", "g")],
        sample_rate=12_000.0, provenance={"source": "test"}, recordings=recs)
    for r in range(2):
        services.datasets.label(eng, dataset=ds.dataset_id, recording=r, label="bearing",
                                t_start=1.0, t_end=4.0)
    # The Train page can say it before anything is trained, in the same words as training.
    plan = services.training.label_plan(eng, dataset=ds.dataset_id, window=1024, hop=1024)
    assert plan.rule == LABEL_RULE and "Time-range labels are used for training" in LABEL_RULE
    assert plan.left_out == 4  # the windows across 1 s and 4 s, in each recording
    assert plan.from_ranges == 2 * 34 and "Cannot train: class bearing" in plan.summary()
    with pytest.raises(UsageError, match=r"class bearing has no held-out windows under the "
                                         r"split \(time-ordered per recording, the last 30% "
                                         r"held out after a gap of 1024 samples\)"):
        services.training.train(eng, dataset=ds.dataset_id, line="seg", recipe=make_recipe(),
                                window=1024, hop=1024)
    assert services.registry.lines(eng) == []  # refused before anything was registered
    # Split by recording instead: one whole recording, fault range included, is held out.
    out = services.training.train(eng, dataset=ds.dataset_id, line="seg",
                                  recipe=make_recipe(split="recording"), window=1024, hop=1024)
    counts = {c.label: (c.train, c.test) for c in out.labels.classes}
    assert counts == {"bearing": (34, 34), "healthy": (81, 81)}
    assert out.validation["labels"]["left_out"] == 4
    assert out.validation["n_train"] + out.validation["n_test"] == 2 * (34 + 81)
    card = services.registry.card(eng, ref=out.version.ref)
    assert f"## Labels\n- {LABEL_RULE}" in card and "bearing 34 / 34" in card
    assert card == out.validation["model_card"]
    evidence = services.registry.validation(people["auditor"], ref=out.version.ref)
    assert evidence.labels.rule == LABEL_RULE and evidence.labels.left_out == 4
    assert np.isfinite(evidence.metrics["accuracy"])


def test_conditions_reach_leave_one_condition_out_and_units_reach_the_card(services, people):
    from app.core.records import ChannelInfo
    from app.core.roles import Action
    from app.services.datasets import RecordingInput
    from app.services.recipes import make_recipe
    from tests.ml.machine_sim import FS, recordings

    eng = people["engineer"]
    recs = [RecordingInput(name=r.id, data=r.signal, label=r.label,
                           condition=f"speed={r.condition.replace(' ', '')}")
            for r in recordings(speeds=(1200.0, 1800.0), per_state=1, seconds=4.0)]
    ds = services.datasets.create_from_arrays(
        eng, action=Action.DATA_IMPORT, name="two speeds", sample_rate=FS,
        channels=[ChannelInfo("acc", "g", "100 mV/g"), ChannelInfo("rpm", "rpm")],
        provenance={"source": "test"}, recordings=recs)
    recipe = make_recipe(kinematics={"rpm": 1800.0, "speed_channel": "rpm",
                                     "bearing": "SKF 6205-2RS JEM"})
    out = services.training.train(eng, dataset=ds.dataset_id, line="speeds", recipe=recipe,
                                  channels=["acc"], window=2048, hop=1024)
    rob = out.evidence.robustness
    assert {c.condition for c in rob.conditions} == {"speed=1200rpm", "speed=1800rpm"}
    assert all(c.n_test > 0 and c.n_train > 0 for c in rob.conditions)
    assert [(c.channel, c.unit, c.scale) for c in out.evidence.inputs] == [
        ("acc", "g", "100 mV/g"), ("rpm", "rpm", "")]
    card = services.registry.card(eng, ref=out.version.ref)
    assert "- acc: vibration, unit g, scale 100 mV/g" in card
    assert "Leave one condition out" in card and "speed=1200rpm" in card


def test_evaluate_reports_dead_and_nan_windows_as_invalid_input(services, people):
    from app.services.recipes import make_recipe
    from tests.services.vibration_kit import two_states, with_bad_windows

    eng = people["engineer"]
    train_ds = two_states(services, eng)
    v = services.training.train(eng, dataset=train_ds.dataset_id, line="pump",
                                recipe=make_recipe(), window=1024, hop=1024).version
    bad = with_bad_windows(services, eng)
    r = services.training.evaluate(eng, ref=v.ref, dataset=bad.dataset_id)
    # A dead sensor is flat and, reading zero, below the training level too.
    assert r["invalid_reasons"] == {
        "invalid input: flat line (dead or disconnected sensor); level far below the training "
        "envelope": 1,
        "invalid input: non-finite samples (NaN or infinite)": 1}
    assert (r["windows"], r["valid_windows"], r["invalid_windows"]) == (20, 18, 2)
    assert r["accuracy"] >= 0.95  # of the 18 valid windows: no invalid one is a class
    assert sum(map(sum, r["confusion"])) == 18 and "invalid input" not in r["labels"]
    events = services.audit.show(people["auditor"], AuditFilter(action="model.evaluate"))
    assert events[0].new["invalid_windows"] == 2
