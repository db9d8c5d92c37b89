"""Training recipe and split spec: everything needed to re-run a training, JSON round-trip."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from app.core.canonical import canonical_bytes, canonical_json, sha256_hex
from app.core.errors import UsageError
from app.features.kinematics import Kinematics
from app.features.validity import ValidityConfig

RECIPE_VERSION = 2
READABLE_RECIPES = (1, 2)  # a version 1 recipe reads as version 2 with the new defaults
_KINEMATICS_KEYS = {"rpm", "speed_channel", "bearing", "harmonics", "tolerance",
                    "order_bands"}

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
    """Model family and hyper-parameters (overrides of the defaults), seed and split; the
    machine's kinematics, the input checks and the robustness threshold.

    ``kinematics`` (optional) describes the machine: ``rpm`` (the nominal shaft speed, or
    with a ``speed_channel`` the highest speed), ``bearing`` (a catalogue name, a
    geometry or defect orders, or a dict of those per channel), ``harmonics``,
    ``tolerance`` and ``order_bands``.  ``absolute_features`` adds the gain-sensitive
    family to the scale-free default.  A version is flagged "not robust" when a gain,
    noise or offset perturbation, or a held-out condition, costs more than
    ``robust_max_drop`` of its held-out score.
    """

    task: str = "classification"
    model: str = "random_forest"
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    split: SplitSpec = field(default_factory=SplitSpec)
    version: int = RECIPE_VERSION
    kinematics: dict[str, Any] | None = None
    absolute_features: bool = False
    validity: ValidityConfig = field(default_factory=ValidityConfig)
    robust_max_drop: float = 0.05
    noise_snr_db: float = 20.0

    def __post_init__(self) -> None:
        if isinstance(self.split, dict):
            object.__setattr__(self, "split", SplitSpec(**self.split))
        if isinstance(self.validity, dict):
            try:
                object.__setattr__(self, "validity", ValidityConfig(**self.validity))
            except TypeError as exc:
                raise UsageError(f"validity settings are malformed: {exc}") from None
        object.__setattr__(self, "params", dict(self.params))
        if self.version not in READABLE_RECIPES:
            raise UsageError(f"recipe version {self.version} is not supported (this PlantML "
                             f"reads versions {', '.join(map(str, READABLE_RECIPES))})")
        object.__setattr__(self, "version", RECIPE_VERSION)
        self._validate_machine()
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

    def _validate_machine(self) -> None:
        if self.kinematics is not None:
            if not isinstance(self.kinematics, dict) or not set(self.kinematics) <= \
                    _KINEMATICS_KEYS or "rpm" not in self.kinematics:
                raise UsageError(f"kinematics must be an object with 'rpm' and any of "
                                 f"{sorted(_KINEMATICS_KEYS - {'rpm'})}, got "
                                 f"{self.kinematics!r}")
            object.__setattr__(self, "kinematics", dict(self.kinematics))
            self.kinematics_for(_kinematic_channels(self.kinematics))  # every other check
        if not isinstance(self.absolute_features, bool):
            raise UsageError(f"absolute_features must be true or false, got "
                             f"{self.absolute_features!r}")
        for name, lo, hi in (("robust_max_drop", 0.0, 1.0), ("noise_snr_db", -20.0, 120.0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not (
                    math.isfinite(value) and lo <= value <= hi):
                raise UsageError(f"{name} must be a number in [{lo:g}, {hi:g}], got {value!r}")


    def kinematics_for(self, channels: tuple[str, ...]) -> Kinematics | None:
        """The recipe's kinematics resolved for the model's channels (None if not given)."""
        if self.kinematics is None:
            return None
        k = self.kinematics
        try:
            return Kinematics.resolve(
                rpm=k["rpm"], channels=tuple(channels), bearing=k.get("bearing"),
                speed_channel=k.get("speed_channel") or "", harmonics=k.get("harmonics", 3),
                tolerance=k.get("tolerance", 0.03), order_bands=k.get("order_bands", 4))
        except (TypeError, ValueError) as exc:
            raise UsageError(f"kinematics are malformed: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict, the form stored in lineage and reports."""
        return {"version": self.version, "task": self.task, "model": self.model,
                "params": dict(self.params), "seed": self.seed, "split": self.split.to_dict(),
                "kinematics": self.kinematics, "absolute_features": self.absolute_features,
                "validity": self.validity.to_dict(), "robust_max_drop": self.robust_max_drop,
                "noise_snr_db": self.noise_snr_db}

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


def _kinematic_channels(kinematics: dict[str, Any]) -> tuple[str, ...]:
    """Channels to check the kinematics against before the data is known."""
    bearing = kinematics.get("bearing")
    per_channel = isinstance(bearing, dict) and bearing and all(
        isinstance(v, str | dict) for v in bearing.values())
    speed = kinematics.get("speed_channel") or ""
    return (tuple(bearing) if isinstance(bearing, dict) and per_channel else ("ch",)) + (
        (speed,) if speed else ())
