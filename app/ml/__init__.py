"""Training, validation, ONNX export with the feature graph, parity gate and lineage."""

import importlib
from typing import Any

# Loaded on first use: scikit-learn, skl2onnx and onnxruntime take a second or more to
# import, which the GUI and CLI should not pay at start-up for commands that never train.
_HOME = {
    "ExportedModel": "app.ml.export",
    "MODELS": "app.ml.recipe",
    "ModelSchema": "app.ml.schema",
    "ParityReport": "app.ml.parity",
    "Recipe": "app.ml.recipe",
    "Recording": "app.ml.dataset",
    "SplitSpec": "app.ml.recipe",
    "TrainedModel": "app.ml.trainer",
    "ValidationReport": "app.ml.report",
    "WindowSet": "app.ml.dataset",
    "check_model": "app.ml.checks",
    "check_no_leakage": "app.ml.splits",
    "evaluate": "app.ml.evaluation",
    "export_onnx": "app.ml.export",
    "golden_set": "app.ml.parity",
    "library_versions": "app.ml.provenance",
    "lineage": "app.ml.provenance",
    "model_hash": "app.ml.provenance",
    "parity_gate": "app.ml.parity",
    "require_deployable": "app.ml.parity",
    "split_by_recording": "app.ml.splits",
    "split_time_ordered": "app.ml.splits",
    "train": "app.ml.trainer",
    "window_set": "app.ml.dataset",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'app.ml' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "MODELS",
    "ExportedModel",
    "ModelSchema",
    "ParityReport",
    "Recipe",
    "Recording",
    "SplitSpec",
    "TrainedModel",
    "ValidationReport",
    "WindowSet",
    "check_model",
    "check_no_leakage",
    "evaluate",
    "export_onnx",
    "golden_set",
    "library_versions",
    "lineage",
    "model_hash",
    "parity_gate",
    "require_deployable",
    "split_by_recording",
    "split_time_ordered",
    "train",
    "window_set",
]
