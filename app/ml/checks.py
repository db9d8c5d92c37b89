"""Deployability checks of an exported model (T30): checker, schema, opsets, golden inputs."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort

from app.features.onnx_graph import ML_OPSET, OPSET
from app.ml.schema import ModelSchema, schema_of


def session(onnx_bytes: bytes) -> ort.InferenceSession:
    """CPU session with one thread, as the controllers run it."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # unused-initializer notes are not the user's business
    return ort.InferenceSession(onnx_bytes, opts, providers=["CPUExecutionProvider"])


def _schema_reasons(onx: onnx.ModelProto, expected: ModelSchema) -> list[str]:
    reasons = []
    inputs, outputs = schema_of(onx)
    for what, got, want in (("inputs", inputs, expected.inputs),
                            ("outputs", outputs, expected.outputs)):
        got_d = [t.to_dict() for t in got]
        want_d = [t.to_dict() for t in want]
        if got_d != want_d:
            reasons.append(f"model {what} {got_d} differ from the manifest's {want_d}")
    opsets = {o.domain or "ai.onnx": o.version for o in onx.opset_import}
    if opsets.get("ai.onnx") != OPSET or opsets.get("ai.onnx.ml", ML_OPSET) != ML_OPSET:
        reasons.append(f"opsets {opsets} are not the pinned ai.onnx {OPSET}, "
                       f"ai.onnx.ml {ML_OPSET}")
    return reasons


def golden_reasons(sess: ort.InferenceSession, golden_inputs: np.ndarray) -> list[str]:
    """Reasons the model fails on the golden inputs: errors, NaN or infinite outputs."""
    try:
        outs = sess.run(None, {sess.get_inputs()[0].name: golden_inputs.astype(np.float32)})
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own untyped errors
        return [f"onnxruntime failed on the golden inputs: {exc}"]
    reasons = []
    for meta, out in zip(sess.get_outputs(), outs, strict=True):
        arr = np.asarray(out)
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            rows = np.flatnonzero(~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1))
            reasons.append(f"output {meta.name!r} is NaN or infinite on golden input(s) "
                           f"{rows[:5].tolist()}")
    return reasons


def check_model(onnx_bytes: bytes, expected: ModelSchema, golden_inputs: np.ndarray
                ) -> list[str]:
    """Why the model must not be deployed (empty list: it may be).

    Covers T30: fails onnx.checker, gives NaN on the golden inputs, or its
    inputs and outputs differ from the manifest's schema.
    """
    try:
        onx = onnx.load_from_string(onnx_bytes)
        onnx.checker.check_model(onx, full_check=True)
    except Exception as exc:  # noqa: BLE001 - DecodeError, ValidationError, InferenceError...
        return [f"onnx.checker rejects the model: {str(exc).strip().splitlines()[0]}"]
    reasons = _schema_reasons(onx, expected)
    if reasons:
        return reasons
    try:
        sess = session(onnx_bytes)
    except Exception as exc:  # noqa: BLE001 - onnxruntime raises several unrelated types
        return [f"onnxruntime cannot load the model: {str(exc).strip().splitlines()[0]}"]
    if len(golden_inputs) == 0:
        return ["no golden inputs to self-test the model on"]
    return golden_reasons(sess, golden_inputs)
