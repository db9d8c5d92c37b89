"""Training, validation, ONNX export with the feature graph, parity gate and lineage."""

from app.ml.checks import check_model
from app.ml.dataset import Recording, WindowSet, window_set
from app.ml.evaluate import evaluate
from app.ml.export import ExportedModel, export_onnx
from app.ml.lineage import library_versions, lineage, model_hash
from app.ml.parity import ParityReport, golden_set, parity_gate, require_deployable
from app.ml.recipe import MODELS, Recipe, SplitSpec
from app.ml.report import ValidationReport
from app.ml.schema import ModelSchema
from app.ml.splits import check_no_leakage, split_by_recording, split_time_ordered
from app.ml.train import TrainedModel, train

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
