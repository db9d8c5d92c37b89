"""Lineage of a trained model: what data, spec, recipe and libraries produced which bytes."""

from __future__ import annotations

import pickle
import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from app.core.canonical import sha256_hex
from app.ml.export import ExportedModel
from app.ml.trainer import TrainedModel

_LIBRARIES = ("plantml", "numpy", "scipy", "scikit-learn", "skl2onnx", "onnx", "onnxruntime")


def library_versions() -> dict[str, str]:
    """Versions of Python and of every library that shapes a model's numbers."""
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "not installed"
    return out


def model_hash(model: TrainedModel) -> str:
    """SHA-256 of the pickled fitted pipeline (equal for a reproduced training)."""
    return sha256_hex(pickle.dumps(model.pipeline, protocol=5))


def lineage(model: TrainedModel, dataset_hash: str, exported: ExportedModel | None = None
            ) -> dict[str, Any]:
    """JSON-ready lineage record; the dataset hash comes from the caller's snapshot."""
    return {
        "dataset_hash": dataset_hash,
        "feature_spec": model.spec.to_dict(),
        "feature_spec_hash": model.spec.spec_hash(),
        "recipe": model.recipe.to_dict(),
        "recipe_hash": model.recipe.recipe_hash(),
        "split": {"n_train": len(model.train_idx), "n_test": len(model.test_idx)},
        "classes": list(model.classes),
        "libraries": library_versions(),
        "model_hash": model_hash(model),
        "onnx_hash": exported.sha256 if exported is not None else None,
    }
