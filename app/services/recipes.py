"""Training recipes from plain values, so front ends need not know the ml package."""

from __future__ import annotations

from typing import Any

from app.ml import MODELS, Recipe, SplitSpec

__all__ = ["MODELS", "make_recipe"]


def make_recipe(*, task: str = "classification", model: str = "random_forest",
                params: dict[str, Any] | None = None, seed: int = 0, split: str = "time",
                test_fraction: float = 0.3, kinematics: dict[str, Any] | None = None,
                absolute_features: bool = False, validity: dict[str, float] | None = None,
                robust_max_drop: float = 0.05) -> Recipe:
    """A validated recipe; raises UsageError naming the bad field.

    ``kinematics``: {"rpm": ..., "bearing": catalogue name | geometry | orders | per
    channel, "speed_channel": ..., "harmonics": ..., "tolerance": ...} (see Recipe).
    """
    return Recipe(task=task, model=model, params=params or {}, seed=seed,
                  split=SplitSpec(kind=split, test_fraction=test_fraction),
                  kinematics=kinematics, absolute_features=absolute_features,
                  validity=validity or {}, robust_max_drop=robust_max_drop)
