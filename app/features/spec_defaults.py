"""The default layout of each spec version: its features, bands and envelope band."""

from __future__ import annotations

import math
from typing import TypedDict

from app.core.errors import UsageError
from app.features.catalogue import (
    ABSOLUTE_FAMILY,
    ALL_FEATURES,
    ENVELOPE_FEATURES_V2,
    FEATURES_V2,
    SCALE_FREE_DEFAULT,
)
from app.features.kinematics import Kinematics, top_bin
from app.features.spec_bins import Band, equal_bands, pow2_at_least


class Layout(TypedDict):
    """The spec fields a default chooses (the caller gives rate, window, hop, channels)."""

    bands: tuple[Band, ...]
    envelope_filter: Band
    envelope_bands: tuple[Band, ...]
    features: tuple[str, ...]


def layout_v2(fs: float, window: int, kinematics: Kinematics | None,
              absolute: bool) -> Layout:
    """Version 2 (docs/features.md): see :meth:`app.features.spec.FeatureSpec.default`."""
    n = window // 2
    if kinematics is not None and kinematics.speed_channel:
        # A machine whose speed varies: only what holds across speeds.  Impact energy
        # grows with speed while the noise floor does not, so kurtosis, crest factor
        # and band shares move with the speed; where the defect lines sit in orders
        # does not (docs/features.md, the leave-one-speed-out evidence).
        feats = ["order_share"] + (["defect_lines"] if kinematics.orders else [])
    else:
        feats = list(SCALE_FREE_DEFAULT)
        # Order shares only with a speed channel: at a nominal speed they are fixed Hz
        # bands, and the low orders of a vibration spectrum hold so little of its
        # energy that broadband noise decides their share (CWRU: 98.5 % instead of
        # 99.6 % at 20 dB SNR).
        feats += ["defect_lines"] if kinematics is not None and kinematics.orders else []
    if absolute:
        feats += list(ABSOLUTE_FAMILY)
    if window < 128:  # too few bins for an envelope band of 8 shares
        feats = [f for f in feats if f not in ENVELOPE_FEATURES_V2]
    order = {f: i for i, f in enumerate(FEATURES_V2)}
    feats.sort(key=order.__getitem__)
    df = fs / window
    width = window / 16
    if kinematics is not None and kinematics.orders:
        width = max(width, top_bin(kinematics, df) + 1)
    half = pow2_at_least(2 * math.ceil(width)) // 2  # envelope band: M / 2 bins
    lo = max(1, window // 4 - half // 2)
    if lo + half > n:
        raise UsageError(f"the defect lines need an envelope band of {half * df:g} Hz, "
                         f"more than fits below {fs / 2:g} Hz at window {window}; use a "
                         "longer window or fewer harmonics")
    return Layout(bands=equal_bands(0.0, fs / 2, min(8, window // 4)),
                  envelope_filter=(lo * df, (lo + half) * df),
                  envelope_bands=equal_bands(0.0, half * df, 8) if half >= 8 else (),
                  features=tuple(feats))


def layout_v1(fs: float, window: int) -> Layout:
    """Version 1: all 13 time statistics, 8 bands, 12 envelope bands."""
    df = fs / window
    lo, hi = max(10.0, df), min(610.0, fs / 4)
    n_env = int(max(1, min(12, (hi - lo) // df)))
    return Layout(bands=equal_bands(0.0, fs / 2, min(8, window // 4)),
                  envelope_filter=(fs / 6, fs * 5 / 12),
                  envelope_bands=equal_bands(lo, hi, n_env), features=ALL_FEATURES)
