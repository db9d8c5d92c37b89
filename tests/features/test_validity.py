"""Input validity in NumPy: reasons, the training envelope, and the limits' round trip."""

import json

import numpy as np
import pytest

from app.core.errors import UsageError
from app.features.validity import (
    CLIPPED,
    FLAT,
    LEVEL_HIGH,
    LEVEL_LOW,
    NON_FINITE,
    REASONS,
    ValidityConfig,
    ValidityLimits,
    check_windows,
    describe,
    sanitized,
)


def training(n=50, scale=(0.07, 0.7), seed=0):
    """Windows of one channel whose RMS spans ``scale`` (like CWRU: normal to outer race)."""
    rng = np.random.default_rng(seed)
    levels = np.geomspace(*scale, n)
    return rng.standard_normal((n, 1, 2048)) * levels[:, None, None]


@pytest.fixture
def limits():
    w = training()
    v = check_windows(w, ValidityLimits.structural(("DE",)))
    assert v.ok.all()
    return ValidityLimits.from_training(("DE",), v.level, v.spread)


def test_envelope_holds_gain_half_and_double_but_not_unit_mistakes(limits):
    w = training(seed=1)
    assert check_windows(w, limits).ok.mean() > 0.95
    for gain in (0.5, 2.0):
        assert check_windows(gain * w, limits).ok.all(), gain
    assert not check_windows(1000 * w, limits).ok.any()  # mV read as V
    assert (check_windows(1000 * w, limits).reason == LEVEL_HIGH).all()
    assert not check_windows(w / 1000, limits).ok.any()
    # g read as m/s^2 (x 9.81) leaves the envelope for the louder states only: a level
    # check cannot tell a quiet machine in m/s^2 from a loud one in g.
    ms2 = check_windows(9.81 * w, limits)
    assert not ms2.ok[-10:].any() and ms2.ok[:5].all()


def test_each_reason(limits):
    w = training(n=6, seed=2)
    w[0] = 0.0
    w[1, 0, 7] = np.nan
    w[2, 0] = np.clip(w[2, 0], -0.05, 0.05)
    w[3, 0] = 0.2  # stuck at an offset: flat, though its RMS is in the envelope
    w[4, 0, :1000] = np.inf
    v = check_windows(w, limits)
    assert v.reason[0] == FLAT | LEVEL_LOW
    assert v.reason[1] == NON_FINITE and v.reason[4] & NON_FINITE
    assert v.reason[2] == CLIPPED and v.reason[3] == FLAT and v.reason[5] == 0
    assert describe(v.reason[0]) == f"{REASONS[FLAT]}; {REASONS[LEVEL_LOW]}"
    clean = sanitized(w, v)
    assert np.isfinite(clean).all() and not clean[:5].any() and np.array_equal(clean[5], w[5])


def test_flat_floor_follows_the_quietest_training_spread(limits):
    assert limits.flat_floor[0] == pytest.approx(0.01 * 0.07, rel=0.1)
    quiet = training(n=1, scale=(0.0005, 0.0005), seed=3)  # 60 dB under the quietest
    assert check_windows(quiet, limits).reason[0] & FLAT


def test_limits_round_trip_and_refuse_nonsense(limits):
    back = ValidityLimits.from_dict(json.loads(json.dumps(limits.to_dict())))
    assert back == limits
    assert limits.to_dict()["reasons"]["1"] == REASONS[NON_FINITE]
    for bad in ({"level_factor": 0.5}, {"clip_share": 2.0}, {"flat_ratio": float("nan")},
                {"level_factor": "3"}):
        with pytest.raises(UsageError, match="validity"):
            ValidityConfig(**bad)
    with pytest.raises(UsageError, match="one value per channel"):
        ValidityLimits(("a", "b"), ("vibration",), (0.0,), (1.0,), (0.0,))
    with pytest.raises(UsageError, match="expected windows"):
        check_windows(np.zeros((3, 2, 16)), limits)
