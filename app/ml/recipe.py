"""Training recipe and split spec: everything needed to re-run a training, JSON round-trip."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.core.canonical import canonical_bytes, canonical_json, sha256_hex
from app.core.errors import UsageError

RECIPE_VERSION = 1

MODELS: dict[str, tuple[str, ...]] = {
    "classification": ("random_forest", "gradient_boosting", "logistic_regression", "mlp"),
    "regression": ("random_forest", "gradient_boosting", "ridge", "mlp"),
    "anomaly": ("isolation_forest",),
}
SPLIT_KINDS = ("time", "recording")


@dataclass(frozen=True)
class SplitSpec:
    """Leakage-safe split: per recording in time order with a gap, or whole recordings."""

    kind: str = "time"
    test_fraction: float = 0.3
    gap: int | None = None  # samples from a train window's end to a test window's start
    seed: int = 0  # which recordings go to test (kind "recording")

    def __post_init__(self) -> None:
        if self.kind not in SPLIT_KINDS:
            raise UsageError(f"split kind must be one of {list(SPLIT_KINDS)}, got {self.kind!r}"
                             " (random window splits leak overlapping windows and are refused)")
        if not 0.0 < float(self.test_fraction) < 1.0:
            raise UsageError(f"test fraction must lie between 0 and 1, got {self.test_fraction}")
        if self.gap is not None and (isinstance(self.gap, bool) or not isinstance(self.gap, int)
                                     or self.gap < 0):
            raise UsageError(f"gap must be a whole number of samples >= 0, got {self.gap!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"kind": self.kind, "test_fraction": float(self.test_fraction), "gap": self.gap,
                "seed": self.seed}


@dataclass(frozen=True)
class Recipe:
    """Model family and hyper-parameters (overrides of the defaults), seed and split."""

    task: str = "classification"
    model: str = "random_forest"
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    split: SplitSpec = field(default_factory=SplitSpec)
    version: int = RECIPE_VERSION

    def __post_init__(self) -> None:
        if isinstance(self.split, dict):
            object.__setattr__(self, "split", SplitSpec(**self.split))
        object.__setattr__(self, "params", dict(self.params))
        if self.version != RECIPE_VERSION:
            raise UsageError(f"recipe version {self.version} is not supported")
        if self.task not in MODELS:
            raise UsageError(f"task must be one of {list(MODELS)}, got {self.task!r}")
        if self.model not in MODELS[self.task]:
            raise UsageError(f"model for {self.task} must be one of {list(MODELS[self.task])}, "
                             f"got {self.model!r}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            raise UsageError(f"seed must be a whole number >= 0, got {self.seed!r}")
        try:
            canonical_json(self.params)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"hyper-parameters must be plain JSON values: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, the form stored in lineage and reports."""
        return {"version": self.version, "task": self.task, "model": self.model,
                "params": dict(self.params), "seed": self.seed, "split": self.split.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Recipe:
        """Inverse of to_dict."""
        try:
            return cls(**data)
        except TypeError as exc:
            raise UsageError(f"recipe is malformed: {exc}") from None

    def recipe_hash(self) -> str:
        """SHA-256 of the canonical JSON."""
        return sha256_hex(canonical_bytes(self.to_dict()))
