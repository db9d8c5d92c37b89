"""T30: a model that fails onnx.checker, gives NaN on the golden inputs, or whose inputs and
outputs differ from the manifest is blocked, with the reason."""

import dataclasses

import numpy as np
import onnx
import pytest

from app.core.errors import IntegrityError, UsageError
from app.ml import ModelSchema, Recipe, check_model, export_onnx, golden_set, parity_gate, train
from app.ml.export import ExportedModel
from app.ml.parity import golden_indices, require_deployable
from app.ml.schema import TensorSpec


@pytest.fixture(scope="module")
def trained(small_set):
    return train(small_set, Recipe(model="logistic_regression"))


@pytest.fixture(scope="module")
def exported(trained):
    return export_onnx(trained)


@pytest.fixture(scope="module")
def held_out(small_set, trained):
    return small_set.raw(trained.test_idx)


def golden(held_out):
    return held_out[golden_indices(len(held_out))]


def tampered(exported, edit) -> ExportedModel:
    onx = onnx.load_from_string(exported.onnx_bytes)
    edit(onx)
    return ExportedModel(onx.SerializeToString(), exported.schema)


def assert_blocked(trained, model, held_out, match):
    reasons = check_model(model.onnx_bytes, model.schema, golden(held_out))
    assert any(match in r for r in reasons), reasons
    report = parity_gate(trained, model, held_out)
    assert not report.deployable and any(match in r for r in report.reasons)
    with pytest.raises(IntegrityError, match="not deployable"):
        require_deployable(report)


def test_good_model_passes(trained, exported, held_out):
    assert check_model(exported.onnx_bytes, exported.schema, golden(held_out)) == []
    report = parity_gate(trained, exported, held_out)
    assert report.deployable and report.reasons == []
    require_deployable(report)
    assert report.to_dict()["onnx_sha256"] == exported.sha256
    inputs, outputs = golden_set(exported, held_out)
    assert inputs.dtype == np.float32 and len(inputs) == report.n_golden
    assert set(outputs) == {"label", "scores", "features", "input_ok", "input_reason",
                            "input_level"}
    # The gate's held-out windows, then a dead, a NaN and a clipped one: reported invalid.
    assert np.array_equal(inputs[:-3], golden(held_out).astype(np.float32))
    assert not inputs[-3].any() and np.isnan(inputs[-2]).sum() == 1
    assert outputs["input_ok"][:-3].all() and not outputs["input_ok"][-3:].any()
    assert (outputs["label"][-3:] == -1).all() and list(outputs["input_reason"][-3:]) == [
        2 | 8, 1, 4]
    assert report.golden_bad_flagged == report.golden_bad == 3


def test_gate_needs_windows(trained, exported):
    with pytest.raises(UsageError, match="held-out windows"):
        parity_gate(trained, exported, np.zeros((0, 1, 256)))


def test_checker_failure_blocks(trained, exported, held_out):
    def break_graph(onx):
        onx.graph.node[5].input[0] = "no_such_value"

    assert_blocked(trained, tampered(exported, break_graph), held_out, "onnx.checker")
    garbage = ExportedModel(b"\x08\x07not a model" * 10, exported.schema)
    assert_blocked(trained, garbage, held_out, "onnx.checker")


def test_nan_on_golden_inputs_blocks(trained, exported, held_out):
    def poison(onx):
        # The scaler in front of the classifier: NaN there makes every score NaN.  (The
        # feature graph's ratios read NaN as 0, and its input is sanitised first.)
        scaler = next(n for n in onx.graph.node if n.op_type == "Scaler")
        for attr in scaler.attribute:
            if attr.name == "scale":
                attr.floats[:] = [float("nan")] * len(attr.floats)

    assert_blocked(trained, tampered(exported, poison), held_out, "NaN or infinite on golden")


def test_schema_mismatch_blocks(trained, exported, held_out):
    wrong_window = dataclasses.replace(exported.schema, inputs=(
        TensorSpec("window", "float32", ("batch", 1, 512)),))
    assert_blocked(trained, ExportedModel(exported.onnx_bytes, wrong_window), held_out,
                   "differ from the manifest")

    def rename_output(onx):
        onx.graph.output[0].name = "prediction"
        for node in onx.graph.node:
            node.output[:] = ["prediction" if o == "label" else o for o in node.output]

    assert_blocked(trained, tampered(exported, rename_output), held_out,
                   "differ from the manifest")


def test_unpinned_opset_blocks(trained, exported, held_out):
    def bump(onx):
        for imp in onx.opset_import:
            if imp.domain == "":
                imp.version = 22

    assert_blocked(trained, tampered(exported, bump), held_out, "pinned")


def test_schema_round_trip(exported):
    data = exported.schema.to_dict()
    assert ModelSchema.from_dict(data) == exported.schema
    assert data["inputs"][0] == {"name": "window", "dtype": "float32",
                                 "shape": ["batch", 1, 256]}
