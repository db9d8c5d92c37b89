"""extract / extract_windows: layout, names, chunking, bad input, and bounded extra memory."""

import tracemalloc

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from app.core.errors import UsageError
from app.features import extract, extract_windows, n_windows, window_starts
from app.features import extraction as extract_mod
from app.features.spec import TIME_FEATURES, FeatureSpec
from app.features.spectral import windowed_spectral
from app.features.timestats import windowed_time_stats


@pytest.fixture(params=[1, 2], ids=["v1", "v2"])
def spec(request):
    if request.param == 1:
        return FeatureSpec.default_v1(8000.0, channels=("a", "b"), window=512, hop=200)
    return FeatureSpec.default(8000.0, channels=("a", "b"), window=512, hop=200)


def test_layout_is_channel_major():
    spec = FeatureSpec.default_v1(8000.0, channels=("a", "b"), window=512, hop=200)
    x = np.random.default_rng(0).standard_normal((2, 10_000))
    feats, names = extract(x, spec)
    assert names == spec.feature_names()
    assert feats.shape == (n_windows(10_000, spec), spec.n_features)
    per = len(spec.channel_feature_names())
    time = windowed_time_stats(x, 512, 200)
    spectral = windowed_spectral(x, spec)
    for c in range(2):
        block = feats[:, c * per:(c + 1) * per]
        assert np.array_equal(block[:, :13], time[c])
        assert np.array_equal(block[:, 13:], spectral[c])
    assert window_starts(10_000, spec).tolist()[:3] == [0, 200, 400]


def test_windows_equal_continuous_extraction(spec):
    x = np.random.default_rng(1).standard_normal((2, 6000))
    feats, _ = extract(x, spec)
    wins = sliding_window_view(x, 512, axis=-1)[:, ::200].transpose(1, 0, 2)
    assert np.array_equal(extract_windows(wins, spec), feats)


def test_chunks_give_identical_results(spec, monkeypatch):
    x = np.random.default_rng(2).standard_normal((2, 30_000)).astype(np.float32)
    whole, _ = extract(x, spec)
    monkeypatch.setattr(extract_mod, "_CHUNK_WINDOWS", 7)
    assert np.array_equal(extract(x, spec)[0], whole)


def test_feature_subset_order():
    spec = FeatureSpec.default_v1(1000.0, window=256, hop=256)
    sub = FeatureSpec.from_dict({**spec.to_dict(), "features": [
        "dominant_frequency", "kurtosis", "band_energy", "mean"]})
    assert sub.channel_feature_names()[:3] == ("mean", "kurtosis", "dominant_frequency")
    x = np.random.default_rng(3).standard_normal(5000)
    full, names = extract(x, spec)
    part, part_names = extract(x, sub)
    for j, name in enumerate(part_names):
        assert np.array_equal(part[:, j], full[:, names.index(name)]), name


def test_time_only_spec_any_window():
    spec = FeatureSpec(sample_rate=100.0, window=300, hop=70, features=TIME_FEATURES, version=1)
    feats, names = extract(np.arange(1000.0), spec)
    assert feats.shape == (11, 13) and names[0] == "ch0.mean"


@pytest.mark.parametrize(("x", "match"), [
    (np.zeros((3, 1000)), "2 channels"),
    (np.zeros(1000), "2 channels"),
    (np.array([["a"] * 600] * 2), "real numbers"),
])
def test_bad_input(spec, x, match):
    with pytest.raises(UsageError, match=match):
        extract(x, spec)


def test_nan_is_reported_with_its_window(spec):
    x = np.random.default_rng(4).standard_normal((2, 5000))
    x[1, 1500] = np.nan
    with pytest.raises(UsageError, match="window 5 holds NaN"):
        extract(x, spec)
    wins = np.zeros((3, 2, 512))
    wins[2, 0, 7] = np.inf
    with pytest.raises(UsageError, match="window 2"):
        extract_windows(wins, spec)


def test_windows_shape_checked(spec):
    with pytest.raises(UsageError, match="expected windows"):
        extract_windows(np.zeros((4, 2, 256)), spec)


def test_extra_memory_bounded_for_long_input():
    spec = FeatureSpec.default(12000.0, channels=("a", "b"), window=1024, hop=256)
    x = np.random.default_rng(5).standard_normal((2, 3_000_000))
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        out, _ = extract(x, spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base <= out.nbytes + 16 * 2**20, (peak - base, out.nbytes)
