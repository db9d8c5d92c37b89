"""Issue 15.9 (device side): the controller's self-test uses the workstation's golden rule,
so a golden outputs file that leaves any golden input without its expected output, or names
nothing at all, never passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.devices.controller.engine import Engine
from app.devices.controller.selftest import SelfTestFailed, run_self_test
from tests.devices.kit import golden, window_model


def _files(tmp_path: Path, doc: object | None = None) -> tuple[Engine, dict[str, Path]]:
    model = window_model(1)
    inputs, outputs = golden(model)
    (tmp_path / "model.onnx").write_bytes(model)
    (tmp_path / "golden_inputs.npy").write_bytes(inputs)
    (tmp_path / "golden_outputs.json").write_bytes(
        outputs if doc is None else json.dumps(doc).encode())
    files = {p.name: p for p in tmp_path.iterdir()}
    return Engine(files["model.onnx"]), files


def test_complete_golden_outputs_pass(tmp_path: Path) -> None:
    engine, files = _files(tmp_path)
    assert run_self_test(engine, files) == 4


@pytest.mark.parametrize("doc, match", [
    ({}, "names no expected output"),
    ({"outputs": {}}, "names no expected output"),
    ({"scores": [[0.3, 0.3, 0.4]] * 4}, "no expected values for output label"),
    ({"label": [0, 1]}, "2 expected values for 4 golden inputs"),
    ({"label": [0, 1, 2, 0], "bogus": [1, 1, 1, 1]}, "bogus, which the model does not have"),
    ("label", "neither a list nor an object"),
])
def test_incomplete_golden_outputs_never_pass(tmp_path: Path, doc: object, match: str) -> None:
    engine, files = _files(tmp_path, doc)
    with pytest.raises(SelfTestFailed, match=match):
        run_self_test(engine, files)


@pytest.mark.parametrize("value", [-1, 2**31, 2**40, "7", True, 1.5])
def test_state_file_counter_out_of_range_is_refused(value: object) -> None:
    from app.devices.controller.slots import DiskState
    doc = json.loads(DiskState(counters={"bearing": 3}).to_json())
    doc["counters"]["bearing"] = value
    with pytest.raises(ValueError, match="accepted counter of 'bearing'"):
        DiskState.from_json(json.dumps(doc).encode())
