"""Input and output schema of an exported model, as a manifest records it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import onnx
from onnx import TensorProto

from app.features.onnx_graph import INPUT_NAME, OUTPUT_NAME
from app.features.validity_graph import LEVEL_NAME, OK_NAME, REASON_NAME

_DTYPES: dict[int, str] = {TensorProto.FLOAT: "float32", TensorProto.INT64: "int64",
           TensorProto.DOUBLE: "float64", TensorProto.BOOL: "bool"}
_CODES = {v: k for k, v in _DTYPES.items()}


@dataclass(frozen=True)
class TensorSpec:
    """Name, element type and shape ('batch' for the free first dimension)."""

    name: str
    dtype: str
    shape: tuple[str | int, ...]

    @property
    def elem_type(self) -> int:
        """ONNX element type code."""
        return _CODES[self.dtype]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"name": self.name, "dtype": self.dtype, "shape": list(self.shape)}


@dataclass(frozen=True)
class ModelSchema:
    """One input (raw windows) and the outputs, plus what the columns and labels mean.

    ``validity`` holds the input checks' thresholds (ValidityLimits.to_dict(): the
    training envelope, the flat floor, the clip limits and what each reason bit means);
    label -1 means invalid input.  Models exported before the checks have none.
    """

    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    classes: tuple[str, ...]
    feature_names: tuple[str, ...]
    validity: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the manifest's input and output schema)."""
        d = {"inputs": [t.to_dict() for t in self.inputs],
             "outputs": [t.to_dict() for t in self.outputs],
             "classes": list(self.classes), "feature_names": list(self.feature_names)}
        if self.validity is not None:
            d["validity"] = self.validity
            d["invalid_label"] = -1
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelSchema:
        """Inverse of to_dict."""
        def specs(rows: list[dict[str, Any]]) -> tuple[TensorSpec, ...]:
            return tuple(TensorSpec(r["name"], r["dtype"], tuple(r["shape"])) for r in rows)
        return cls(specs(data["inputs"]), specs(data["outputs"]), tuple(data["classes"]),
                   tuple(data["feature_names"]), data.get("validity"))


def schema_for(model: Any) -> ModelSchema:
    """Schema of the raw-window model exported from a TrainedModel."""
    spec = model.spec
    n_ch, f = len(spec.channels), spec.n_features
    window = TensorSpec(INPUT_NAME, "float32", ("batch", n_ch, spec.window))
    feats = TensorSpec(OUTPUT_NAME, "float32", ("batch", f))
    outs: tuple[TensorSpec, ...]
    if model.task == "classification":
        outs = (TensorSpec("label", "int64", ("batch",)),
                TensorSpec("scores", "float32", ("batch", len(model.classes))))
    elif model.task == "regression":
        outs = (TensorSpec("value", "float32", ("batch", 1)),)
    else:
        outs = (TensorSpec("label", "int64", ("batch",)),
                TensorSpec("scores", "float32", ("batch", 1)))
    checks = (TensorSpec(OK_NAME, "bool", ("batch",)),
              TensorSpec(REASON_NAME, "int64", ("batch",)),
              TensorSpec(LEVEL_NAME, "float32", ("batch", n_ch)))
    validity = model.validity.to_dict() if getattr(model, "validity", None) else None
    return ModelSchema(inputs=(window,), outputs=(*outs, feats, *checks), classes=model.classes,
                       feature_names=spec.feature_names(), validity=validity)


def _value_spec(vi: onnx.ValueInfoProto) -> TensorSpec:
    t = vi.type.tensor_type
    dims = tuple(d.dim_param if d.HasField("dim_param") else
                 (d.dim_value if d.HasField("dim_value") else "?") for d in t.shape.dim)
    return TensorSpec(vi.name, _DTYPES.get(t.elem_type, f"onnx:{t.elem_type}"), dims)


def schema_of(onx: onnx.ModelProto) -> tuple[tuple[TensorSpec, ...], tuple[TensorSpec, ...]]:
    """Inputs and outputs an ONNX model actually declares."""
    return (tuple(_value_spec(v) for v in onx.graph.input),
            tuple(_value_spec(v) for v in onx.graph.output))
