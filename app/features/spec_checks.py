"""Checks of a feature spec's plain fields, before anything is derived from them."""

from __future__ import annotations

import math

from app.core.errors import UsageError
from app.features.catalogue import ALL_FEATURES, FEATURES_V2
from app.features.spec_bins import WINDOW_FUNCTIONS

READABLE_VERSIONS = (1, 2)


def check_fields(*, version: int, sample_rate: float, window: int, hop: int,
                 channels: tuple[str, ...], features: tuple[str, ...],
                 window_function: str) -> None:
    """Refuse (UsageError, one sentence naming the field) a version this PlantML cannot
    read, a rate, window or hop that is no usable number, repeated or missing channels,
    feature names unknown to the version, or an unknown window function."""
    if version not in READABLE_VERSIONS:
        readable = ", ".join(map(str, READABLE_VERSIONS))
        raise UsageError(f"feature spec version {version} is not supported (this "
                         f"PlantML reads versions {readable}; a newer PlantML made it)")
    if not (math.isfinite(sample_rate) and sample_rate > 0):
        raise UsageError(f"sample rate must be a positive number, got {sample_rate}")
    for name, value in (("window", window), ("hop", hop)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise UsageError(f"{name} must be a whole number of samples, got {value!r}")
    if window < 2 or hop < 1:
        raise UsageError(f"window must be >= 2 and hop >= 1 samples, "
                         f"got window {window}, hop {hop}")
    if not channels or len(set(channels)) != len(channels):
        raise UsageError(f"channels must be a non-empty list of distinct names, "
                         f"got {list(channels)}")
    known = ALL_FEATURES if version == 1 else FEATURES_V2
    unknown = [f for f in features if f not in known]
    if unknown or not features or len(set(features)) != len(features):
        hint = (" (version 1 names: 'kurtosis' is 'excess_kurtosis' in version 2)"
                if "kurtosis" in unknown else "")
        raise UsageError(f"features must be distinct names from {list(known)}; "
                         f"got {list(features)}{hint}")
    if window_function not in WINDOW_FUNCTIONS:
        raise UsageError(f"window function must be one of {list(WINDOW_FUNCTIONS)}, "
                         f"got {window_function!r}")
