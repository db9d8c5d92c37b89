"""The model payload must be self-contained ONNX: no tensor may point at external data."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from app.packages.errors import PackageRefused

if TYPE_CHECKING:
    import onnx

log = logging.getLogger(__name__)


def _graph_tensors(graph: onnx.GraphProto) -> Iterator[onnx.TensorProto]:
    yield from graph.initializer
    for sparse in graph.sparse_initializer:
        yield sparse.values
        yield sparse.indices
    for node in graph.node:
        yield from _node_tensors(node)


def _node_tensors(node: onnx.NodeProto) -> Iterator[onnx.TensorProto]:
    for attr in node.attribute:
        if attr.HasField("t"):
            yield attr.t
        yield from attr.tensors
        if attr.HasField("sparse_tensor"):
            yield attr.sparse_tensor.values
            yield attr.sparse_tensor.indices
        for sparse in attr.sparse_tensors:
            yield sparse.values
            yield sparse.indices
        # Control-flow operators (If, Loop, Scan) carry whole subgraphs with their own tensors.
        if attr.HasField("g"):
            yield from _graph_tensors(attr.g)
        for sub in attr.graphs:
            yield from _graph_tensors(sub)


def external_tensors(model: onnx.ModelProto) -> list[str]:
    """Names of tensors stored outside the model file, with where they point."""
    import onnx

    found = []
    tensors = list(_graph_tensors(model.graph))
    for function in model.functions:
        for node in function.node:
            tensors.extend(_node_tensors(node))
    for tensor in tensors:
        if tensor.data_location == onnx.TensorProto.EXTERNAL or len(tensor.external_data):
            where = next((e.value for e in tensor.external_data if e.key == "location"), "?")
            found.append(f"{tensor.name or '<unnamed>'} -> {where}")
    return found


def _check(model: onnx.ModelProto, name: str) -> None:
    found = external_tensors(model)
    if found:
        raise PackageRefused("onnx", f"{name} references external data, which a package may "
                             f"not carry: {', '.join(found[:5])}")


def check_onnx_bytes(data: bytes, name: str = "model.onnx") -> None:
    """Refuse ``data`` unless it parses as ONNX with every tensor inside the file."""
    # Imported here: onnx is slow to import and most callers never verify a package.
    import onnx

    try:
        model = onnx.load_model_from_string(data)
    # protobuf raises several unrelated types on hostile input; all mean "not a model".
    except Exception as exc:
        raise PackageRefused("onnx", f"{name} is not a readable ONNX model: {exc}") from exc
    _check(model, name)


def check_onnx_file(path: Path) -> None:
    """Refuse the model file at ``path`` if it is not ONNX or references external data."""
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise PackageRefused("onnx", f"{Path(path).name} is not a readable ONNX model: "
                             f"{exc}") from exc
    _check(model, Path(path).name)
