"""ONNX export: the feature graph joined to the skl2onnx model, raw window in, prediction out."""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import onnx
from onnx import TensorProto, helper
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType

from app.core.canonical import sha256_hex
from app.core.errors import UsageError
from app.features.onnx_graph import ML_OPSET, OPSET, feature_graph, ir_version
from app.features.validity_graph import OK_NAME
from app.ml.models import family
from app.ml.schema import ModelSchema, schema_for
from app.ml.thresholds import fix_thresholds
from app.ml.trainer import INVALID_LABEL, TrainedModel

HEAD_INPUT = "features"


@dataclass(frozen=True)
class ExportedModel:
    """Serialized ONNX model and the schema it was built to."""

    onnx_bytes: bytes
    schema: ModelSchema

    @property
    def sha256(self) -> str:
        """SHA-256 of the ONNX bytes."""
        return sha256_hex(self.onnx_bytes)


def _head(model: TrainedModel) -> onnx.ModelProto:
    """skl2onnx graph of the pipeline from float32 features [N, F]."""
    in_type = FloatTensorType([None, model.spec.n_features])
    estimator = model.pipeline.named_steps["model"]
    options = {id(estimator): {"zipmap": False}} if model.task == "classification" else None
    # skl2onnx's identity removal is quadratic in the node count: seconds for
    # an isolation forest's per-tree subgraphs, for a few Identity nodes saved.
    onx = convert_sklearn(model.pipeline, initial_types=[("head_in", in_type)],
                          target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET}, options=options,
                          model_optim=model.recipe.model != "isolation_forest")
    if family(model.recipe) == "tree":
        fix_thresholds(onx, estimator)
    return onx


def _prefix(graph: onnx.GraphProto, prefix: str, keep: set[str]) -> None:
    """Rename every value and node of graph (except names in keep) with prefix."""
    names = {i.name for i in graph.initializer} | {o for n in graph.node for o in n.output}
    names |= {i.name for i in graph.input}
    ren = {n: (n if n in keep else prefix + n) for n in names}
    for node in graph.node:
        node.input[:] = [ren.get(i, i) for i in node.input]
        node.output[:] = [ren.get(o, o) for o in node.output]
        node.name = prefix + node.name if node.name else ""
    for init in graph.initializer:
        init.name = ren[init.name]
    for vi in list(graph.input) + list(graph.output):
        vi.name = ren.get(vi.name, vi.name)


def _tail(model: TrainedModel, head_outputs: list[str]) -> list[onnx.NodeProto]:
    """Uniform outputs: label (int64) and scores (float32), or value for regression.

    Where the input is invalid the label is -1 and the scores are 0, so no reader can
    take a dead sensor for a machine state; a regression value is that of a window of
    zeros (read ``input_ok``).
    """
    f32 = TensorProto.FLOAT
    if model.task == "regression":
        return [helper.make_node("Cast", [head_outputs[0]], ["value"], to=f32)]
    if model.task == "classification":
        # Our own ArgMax over the probabilities: first maximum wins, the rule
        # numpy's argmax (and so sklearn's predict) uses; the tree operator
        # breaks exact vote ties its own way.
        nodes = [helper.make_node("Cast", [head_outputs[1]], ["tl_scores"], to=f32),
                 helper.make_node("ArgMax", ["tl_scores"], ["tl_label"], axis=1, keepdims=0)]
    else:
        # anomaly: skl2onnx gives (label 1/-1, decision_function); we give
        # label 1 = anomaly where score < 0, sklearn's rule, computed from the score.
        nodes = [helper.make_node("Cast", [head_outputs[1]], ["tl_scores"], to=f32),
                 helper.make_node("Less", ["tl_scores", "hd_zero"], ["hd_is_anomaly"]),
                 helper.make_node("Cast", ["hd_is_anomaly"], ["hd_label2d"],
                                  to=TensorProto.INT64),
                 helper.make_node("Squeeze", ["hd_label2d", "hd_axis1"], ["tl_label"])]
    return nodes + [
        helper.make_node("Where", [OK_NAME, "tl_label", "tl_invalid"], ["label"]),
        helper.make_node("Unsqueeze", [OK_NAME, "hd_axis1"], ["tl_ok2d"]),
        helper.make_node("Where", ["tl_ok2d", "tl_scores", "hd_zero"], ["scores"])]


def build_onnx(model: TrainedModel) -> onnx.ModelProto:
    """One ModelProto: ``window`` [batch, C, L] -> outputs of ``schema_for(model)``."""
    schema = schema_for(model)
    fg = feature_graph(model.spec, limits=model.validity)
    head = _head(model)
    _prefix(head.graph, "hd_", keep=set())
    head_in = head.graph.input[0].name
    nodes = list(fg.graph.node)
    nodes.append(helper.make_node("Identity", [HEAD_INPUT], [head_in]))
    nodes += list(head.graph.node)
    nodes += _tail(model, [o.name for o in head.graph.output])
    inits = list(fg.graph.initializer) + list(head.graph.initializer)
    if model.task != "regression":
        inits += [onnx.numpy_helper.from_array(np.zeros(1, np.float32), "hd_zero"),
                  onnx.numpy_helper.from_array(np.array([1], np.int64), "hd_axis1"),
                  onnx.numpy_helper.from_array(np.array([INVALID_LABEL], np.int64),
                                               "tl_invalid")]
    outputs = [helper.make_tensor_value_info(o.name, o.elem_type, o.shape)
               for o in schema.outputs]
    graph = helper.make_graph(nodes, "plantml_model", list(fg.graph.input), outputs, inits)
    opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
    onx = helper.make_model(graph, opset_imports=opsets, producer_name="plantml")
    onx.ir_version = ir_version()
    meta = {"feature_spec": json.dumps(model.spec.to_dict(), sort_keys=True),
            "schema": json.dumps(schema.to_dict(), sort_keys=True),
            "validity": json.dumps(model.validity.to_dict(), sort_keys=True)}
    helper.set_model_props(onx, meta)
    return onx


def export_onnx(model: TrainedModel) -> ExportedModel:
    """Build, check (onnx.checker, full) and serialize the one raw-window model."""
    try:
        onx = build_onnx(model)
        onnx.checker.check_model(onx, full_check=True)
    except (onnx.checker.ValidationError, RuntimeError, NotImplementedError) as exc:
        raise UsageError(f"{model.recipe.model} could not be exported to ONNX: {exc}") from None
    return ExportedModel(onnx_bytes=onx.SerializeToString(), schema=schema_for(model))
