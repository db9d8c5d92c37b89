"""A small but real model version (ONNX, golden data, reports) for release tests."""

from __future__ import annotations

import io
import json

import numpy as np
import onnx
from onnx import TensorProto, helper

from tests.conftest import password_of


def tiny_onnx() -> bytes:
    """Raw window [N, 1, 8] -> score = mean over the window (a real, checkable model)."""
    x = helper.make_tensor_value_info("window", TensorProto.FLOAT, ["N", 1, 8])
    y = helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])
    axes = helper.make_tensor("axes", TensorProto.INT64, [1], [2])
    node = helper.make_node("ReduceMean", ["window", "axes"], ["m"], keepdims=0)
    graph = helper.make_graph([node, helper.make_node("Identity", ["m"], ["score"])],
                              "tiny", [x], [y], [axes])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    return model.SerializeToString()


def artifacts() -> dict[str, bytes]:
    golden = np.arange(16, dtype=np.float32).reshape(2, 1, 8)
    buf = io.BytesIO()
    np.save(buf, golden)
    return {
        "model.onnx": tiny_onnx(),
        "golden_inputs.npy": buf.getvalue(),
        "golden_outputs.json": json.dumps({"score": golden.mean(axis=2).tolist()}).encode(),
        "validation_report.json": b'{"accuracy": 0.995}',
        "parity_report.json": b'{"passed": true, "max_abs_error": 1e-7}',
        "model_card.md": b"# tiny model\nIntended use: tests.\n",
    }


def register(services, who, line="pump-7", passed=True):
    return services.registry.register(
        who, line=line, kind="classifier", dataset_id="d" * 64,
        feature_spec={"window": 8, "hop": 8}, recipe={"model": "mean"},
        metrics={"accuracy": 0.995}, lineage={"sklearn": "1.9"}, artifacts=artifacts(),
        parity_passed=passed, blocked_reason="" if passed else "parity gate failed")


def approve_for_edge(services, people, ref: str) -> None:
    """Propose ``ref`` for hardware EDGE-01 as the engineer and approve it as the approver
    (the conftest's people and their passwords)."""
    services.approvals.propose(people["engineer"], ref=ref, password=password_of("engineer1"),
                               hardware_ids=["EDGE-01"], reason="ready")
    services.approvals.decide(people["approver"], ref=ref, password=password_of("approver1"),
                              meaning="approved", reason="ok")
