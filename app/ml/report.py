"""Validation report dataclasses: metrics, importance, reference statistics; all JSON-ready."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from app.core.canonical import canonical_bytes, sha256_hex

REPORT_VERSION = 2


@dataclass(frozen=True)
class ClassificationMetrics:
    """Accuracy, balanced accuracy, per-class F1 and the confusion matrix (rows: truth)."""

    classes: list[str]
    accuracy: float
    balanced_accuracy: float
    f1: dict[str, float]
    confusion: list[list[int]]


@dataclass(frozen=True)
class RegressionMetrics:
    """Mean absolute error, root mean squared error, coefficient of determination."""

    mae: float
    rmse: float
    r2: float


@dataclass(frozen=True)
class AnomalyMetrics:
    """Precision and recall of 'anomaly' at the decision threshold (score < threshold)."""

    threshold: float
    precision: float | None  # None when nothing was flagged
    recall: float | None  # None when the test set holds no labelled anomaly
    n_flagged: int
    n_anomalies: int


@dataclass(frozen=True)
class Importance:
    """Permutation importance on the test set: mean and std drop of the score per feature."""

    scoring: str
    n_repeats: int
    mean: dict[str, float]
    std: dict[str, float]


@dataclass(frozen=True)
class FeatureReference:
    """Training distribution of one feature, for drift (PSI, KS) on the controller later."""

    name: str
    mean: float
    std: float
    min: float
    max: float
    quantiles: list[float]  # bin edges at 0, 10, ..., 100 %
    fractions: list[float]  # training fraction in each bin (sums to 1)


@dataclass(frozen=True)
class ValidationReport:
    """Everything 'evaluate' measured; to_dict() is what gets stored with the model."""

    task: str
    model: str
    recipe: dict[str, Any]
    feature_spec_hash: str
    n_train: int
    n_test: int
    metrics: ClassificationMetrics | RegressionMetrics | AnomalyMetrics
    importance: Importance
    reference: list[FeatureReference]
    model_card: str = ""
    version: int = field(default=REPORT_VERSION)
    # Per class (classification: class names; anomaly: "normal", "anomaly"; regression:
    # "all"): references of every feature and then of the monitored statistics.
    class_reference: dict[str, list[FeatureReference]] = field(default_factory=dict)
    monitored: list[str] = field(default_factory=list)  # <channel>.level, after the features
    validity: dict[str, Any] | None = None  # ValidityLimits.to_dict(): the input checks
    envelope: dict[str, Any] = field(default_factory=dict)  # operating envelope of training
    robustness: dict[str, Any] | None = None  # RobustnessReport.to_dict()
    n_excluded: int = 0  # windows of the split left out as invalid input
    inputs: dict[str, dict[str, str]] = field(default_factory=dict)  # unit, scale per channel

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict."""
        return asdict(self)

    def report_hash(self) -> str:
        """SHA-256 of the canonical JSON (equal for a reproduced training)."""
        return sha256_hex(canonical_bytes(self.to_dict()))
