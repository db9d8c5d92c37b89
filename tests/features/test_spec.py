"""The feature spec: validation with readable errors, JSON round trip, hashing, names and bins."""

import json

import numpy as np
import pytest

from app.core.errors import UsageError
from app.features.spec import ALL_FEATURES, TIME_FEATURES, FeatureSpec


def test_default_names_and_count():
    spec = FeatureSpec.default(12000.0, channels=("DE", "FE"))
    names = spec.feature_names()
    assert len(names) == spec.n_features == 2 * (13 + 2 + 8 + 12)
    assert names[0] == "DE.mean" and names[13] == "DE.spectral_centroid"
    assert "DE.band_0_750Hz" in names and "FE.env_band_10_60Hz" in names
    assert names[spec.n_features // 2] == "FE.mean"


def test_json_round_trip_and_hash():
    spec = FeatureSpec.default(12000.0, channels=("DE",), window=1024, hop=256)
    text = json.dumps(spec.to_dict())
    back = FeatureSpec.from_dict(json.loads(text))
    assert back == spec
    assert back.spec_hash() == spec.spec_hash()
    other = FeatureSpec.from_dict({**spec.to_dict(), "hop": 512})
    assert other.spec_hash() != spec.spec_hash()


def test_time_only_spec_allows_any_window():
    spec = FeatureSpec(sample_rate=1000.0, window=1000, hop=333, features=TIME_FEATURES)
    assert not spec.needs_spectrum
    assert spec.channel_feature_names() == TIME_FEATURES


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"window": 1000}, "power of two"),
        ({"window": 1}, "window must be >= 2"),
        ({"hop": 0}, "hop >= 1"),
        ({"window": 2048.0}, "whole number"),
        ({"sample_rate": -1.0}, "sample rate"),
        ({"sample_rate": float("nan")}, "sample rate"),
        ({"features": ("mean", "bogus")}, "features must be"),
        ({"features": ("mean", "mean")}, "features must be"),
        ({"channels": ()}, "channels"),
        ({"channels": ("a", "a")}, "channels"),
        ({"window_function": "kaiser"}, "window function"),
        ({"bands": ((1.0, 2.0),)}, "holds no frequency bin"),
        ({"bands": ((500.0, 100.0),)}, "holds no frequency bin"),
        ({"bands": ()}, "no bands"),
        ({"envelope_filter": (0.0, 3000.0)}, "strictly between"),
        ({"envelope_bands": ()}, "no envelope bands"),
        ({"version": 2}, "version 2"),
    ],
)
def test_bad_specs_are_refused(change, match):
    base = FeatureSpec.default(12000.0).to_dict()
    with pytest.raises(UsageError, match=match):
        FeatureSpec(**{**base, **change})


def test_from_dict_refuses_unknown_and_malformed():
    base = FeatureSpec.default(12000.0).to_dict()
    with pytest.raises(UsageError, match="unknown fields"):
        FeatureSpec.from_dict({**base, "colour": "red"})
    del base["sample_rate"]
    with pytest.raises(UsageError, match="malformed"):
        FeatureSpec.from_dict(base)


def test_bins_are_half_open_frequency_ranges():
    spec = FeatureSpec(sample_rate=1024.0, window=1024, hop=512, bands=((0.0, 10.0), (10.0, 512.0)),
                       envelope_filter=(100.0, 300.0), envelope_bands=((5.0, 7.5),))
    # 1 Hz per bin: [0, 10) is bins 0..9; [10, 512) is 10..511 (Nyquist 512 excluded).
    assert spec.band_bins().tolist() == [[0, 10], [10, 512]]
    (lo, hi), env = spec.envelope_bins()
    assert (lo, hi) == (100, 300)
    assert env.tolist() == [[5, 8]]


def test_window_functions_are_periodic():
    for name in ("hann", "hamming", "blackman", "rectangular"):
        spec = FeatureSpec.default(1000.0, window=64)
        w = FeatureSpec.from_dict({**spec.to_dict(), "window_function": name}).window_values()
        assert w.shape == (64,)
        # Periodic form: symmetric about sample L/2, not about (L-1)/2.
        assert np.allclose(w[1:], w[1:][::-1])


def test_all_features_catalogue():
    assert ALL_FEATURES[:13] == TIME_FEATURES
    assert set(ALL_FEATURES[13:]) == {"spectral_centroid", "dominant_frequency", "band_energy",
                                      "envelope_band_energy"}
