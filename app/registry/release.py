"""What a release (package manifest) body is made of, derived from a registered version."""

from __future__ import annotations

import importlib.metadata
import io

from app.core.errors import UsageError
from app.core.model_version import ModelVersion

#: Files a version must have before it can be proposed for release.
REQUIRED = ("model.onnx", "golden_inputs.npy", "golden_outputs.json")
LIBRARIES = ("onnx", "onnxruntime", "scikit-learn", "skl2onnx", "numpy")


def io_schema(model_bytes: bytes) -> tuple[list[dict], list[dict]]:
    """Inputs and outputs of an ONNX model as name, element type and shape."""
    # onnx (and ml_dtypes under it) takes seconds to import: only when a release is made,
    # not whenever the services are opened (the GUI's start-up).
    import onnx

    types = {v: k.lower() for k, v in onnx.TensorProto.DataType.items()}
    try:
        model = onnx.load_model(io.BytesIO(model_bytes), load_external_data=False)
    except Exception as exc:  # onnx raises several unrelated types
        raise UsageError(f"model.onnx cannot be read: {exc}") from exc

    def describe(values) -> list[dict]:
        out = []
        for v in values:
            t = v.type.tensor_type if v.type.HasField("tensor_type") else None
            shape = ([d.dim_param or d.dim_value for d in t.shape.dim] if t is not None
                     and t.HasField("shape") else [])
            kind = types.get(t.elem_type, "unknown") if t is not None else "non-tensor"
            out.append({"name": v.name, "dtype": kind, "shape": shape})
        return out

    return describe(model.graph.input), describe(model.graph.output)


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model's behaviour depends on."""
    out = {}
    for name in LIBRARIES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def check_releasable(version: ModelVersion) -> None:
    """Refuse a version whose artifacts do not make a complete package."""
    missing = [n for n in REQUIRED if n not in version.artifacts]
    if missing:
        raise UsageError(f"{version.ref} cannot be released: it lacks {', '.join(missing)}")
    if not version.parity.passed:
        reason = version.parity.blocked_reason or "no parity report"
        raise UsageError(f"{version.ref} is blocked: {reason}")
