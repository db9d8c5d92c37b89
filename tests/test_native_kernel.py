"""Tests for the compiled windowed time-statistics kernel against the NumPy reference."""

import importlib.machinery
import importlib.util
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from app.features import _timestats
from app.features.reference import reference_time_stats
from app.features.timestats import FEATURE_NAMES, native_module_path, windowed_time_stats

CWRU_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "cwru"
IDX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def assert_matches_reference(native: np.ndarray, ref: np.ndarray) -> None:
    """rtol 1e-9 per feature, with an atol scaled to what that feature is measured against.

    A pure rtol fails for values that are legitimately ~0 while their inputs are
    not (the mean of a zero-mean signal, the skewness of a symmetric one), where
    rounding differences are relative to the signal size, not to the value.
    """
    assert native.shape == ref.shape
    assert native.dtype == np.float64
    if ref.size == 0:
        return
    amplitude = float(np.abs(ref[..., IDX["rms"]]).max())
    for name, i in IDX.items():
        col = ref[..., i]
        if name == "mean":
            scale = max(amplitude, float(np.abs(col).max()))
        elif name in ("skewness", "kurtosis"):
            scale = max(1.0, float(np.abs(col).max()))  # dimensionless
        else:
            scale = float(np.abs(col).max())
        np.testing.assert_allclose(
            native[..., i], col, rtol=1e-9, atol=1e-12 * scale, err_msg=f"feature {name!r}"
        )


# (a) the compiled module is what actually gets imported -----------------------


def test_compiled_extension_is_imported():
    path = Path(_timestats.__file__)
    assert path == Path(native_module_path())
    assert any(path.name.endswith(s) for s in importlib.machinery.EXTENSION_SUFFIXES), path
    spec = importlib.util.find_spec("app.features._timestats")
    assert isinstance(spec.loader, importlib.machinery.ExtensionFileLoader)
    assert Path(spec.origin) == path
    # No pure-Python shadow (or stray copy) next to it.
    for shadow in ("_timestats.py", "_timestats.pyc"):
        assert not (path.parent / shadow).exists()


def test_feature_names():
    assert len(FEATURE_NAMES) == 13 == _timestats.n_features()
    assert FEATURE_NAMES[0] == "mean"
    assert FEATURE_NAMES[-1] == "mean_absolute_change"


# (b) parity on random data ------------------------------------------------------

CASES = [
    # (n_channels, n_samples, window, hop)
    (1, 5000, 256, 128),
    (3, 10_000, 2048, 1024),
    (4, 4096, 1000, 1),  # heavy overlap
    (2, 9000, 64, 300),  # hop > window: gaps between windows
    (5, 3000, 3000, 7),  # exactly one window
    (3, 100, 128, 16),  # n_samples < window: no windows
    (2, 50, 2, 1),  # smallest window
]


@pytest.mark.parametrize(("n_ch", "n", "window", "hop"), CASES)
def test_parity_random(n_ch, n, window, hop):
    rng = np.random.default_rng([n_ch, n, window, hop])
    # Offset + scale so |mean| >> std in some channels (where one-pass moments fail).
    offsets = rng.uniform(-50, 50, size=(n_ch, 1))
    scales = 10.0 ** rng.uniform(-3, 2, size=(n_ch, 1))
    x = offsets + scales * rng.standard_t(df=5, size=(n_ch, n))
    got = windowed_time_stats(x, window, hop, threads=1)
    expected_windows = 0 if n < window else 1 + (n - window) // hop
    assert got.shape == (n_ch, expected_windows, 13)
    assert_matches_reference(got, reference_time_stats(x, window, hop))
    assert np.array_equal(got, windowed_time_stats(x, window, hop, threads=2))


def test_threads_identical_bitwise():
    x = np.random.default_rng(1).standard_normal((7, 50_000))
    one = windowed_time_stats(x, 1024, 333, threads=1)
    two = windowed_time_stats(x, 1024, 333, threads=2)
    assert np.array_equal(one, two)


def test_one_dimensional_is_one_channel():
    x = np.random.default_rng(2).standard_normal(5000)
    got = windowed_time_stats(x, 500, 250)
    assert got.shape == (1, 19, 13)
    assert np.array_equal(got, windowed_time_stats(x[None, :], 500, 250))


@pytest.mark.parametrize(
    "make",
    [
        np.asfortranarray,
        lambda x: x[:, ::-1],
        lambda x: x.astype(np.float32),
        lambda x: np.round(x * 100).astype(np.int32),
    ],
    ids=["fortran", "reversed", "float32", "int32"],
)
def test_non_native_layouts_are_converted(make):
    base = np.random.default_rng(3).standard_normal((3, 4000))
    x = make(base)
    assert_matches_reference(windowed_time_stats(x, 512, 200), reference_time_stats(x, 512, 200))


def test_read_only_input():
    x = np.random.default_rng(4).standard_normal((2, 4000))
    x.flags.writeable = False
    assert_matches_reference(windowed_time_stats(x, 512, 256), reference_time_stats(x, 512, 256))


def test_zero_crossing_definition():
    # Zero counts as non-negative: 1 -> 0 is no crossing, 0 -> -1 is one.
    x = np.array([1.0, 0.0, -1.0, -2.0, 3.0, 0.0, 0.0, -0.5, 2.0])
    got = windowed_time_stats(x, x.size, 1)[0, 0, IDX["zero_crossing_rate"]]
    assert got == pytest.approx(4 / 8)
    assert reference_time_stats(x, x.size, 1)[0, 0, IDX["zero_crossing_rate"]] == got


def test_known_values_sine():
    t = np.arange(4000)
    x = 2.0 * np.sin(2 * np.pi * t / 100)  # 40 full periods
    f = windowed_time_stats(x, 4000, 1)[0, 0]
    assert f[IDX["mean"]] == pytest.approx(0.0, abs=1e-12)
    assert f[IDX["rms"]] == pytest.approx(2 / np.sqrt(2), rel=1e-9)
    assert f[IDX["std"]] == pytest.approx(2 / np.sqrt(2), rel=1e-9)
    assert f[IDX["skewness"]] == pytest.approx(0.0, abs=1e-9)
    assert f[IDX["kurtosis"]] == pytest.approx(-1.5, rel=1e-9)
    assert f[IDX["crest_factor"]] == pytest.approx(np.sqrt(2), rel=1e-6)
    assert f[IDX["peak_to_peak"]] == pytest.approx(4.0, rel=1e-6)


# (c) parity on the CWRU bearing recordings -----------------------------------


def _cwru_files():
    if not CWRU_DIR.is_dir():
        return []
    return sorted(CWRU_DIR.glob("*.npz"))


@pytest.mark.skipif(
    not _cwru_files(), reason=f"CWRU recordings not found in {CWRU_DIR} (shared data absent)"
)
@pytest.mark.parametrize("path", _cwru_files(), ids=lambda p: p.stem)
def test_parity_cwru(path):
    # Each file holds 'DE', 'FE' and (mostly) 'BA' accelerometer channels of shape (n, 1).
    with np.load(path) as data:
        x = np.stack([data[key][:, 0] for key in sorted(data.files)])
    assert x.flags.c_contiguous and x.dtype == np.float64
    for window, hop in ((2048, 1024), (1000, 1500)):
        got = windowed_time_stats(x, window, hop, threads=2)
        assert np.isfinite(got).all()
        assert_matches_reference(got, reference_time_stats(x, window, hop))
        assert np.array_equal(got, windowed_time_stats(x, window, hop, threads=1))


# (d) degenerate signals --------------------------------------------------------


@pytest.mark.parametrize("value", [0.0, 0.1, -3.7, 1e6])
def test_constant_signal(value):
    x = np.full((2, 1000), value)
    got = windowed_time_stats(x, 100, 50)
    assert np.isfinite(got).all()
    for name in ("std", "skewness", "kurtosis", "peak_to_peak", "mean_absolute_change"):
        assert (got[..., IDX[name]] == 0.0).all(), name
    assert got[..., IDX["mean"]] == pytest.approx(value, rel=1e-12)
    assert_matches_reference(got, reference_time_stats(x, 100, 50))
    if value == 0.0:  # every ratio has a zero denominator
        assert not got.any()


def test_empty_inputs():
    assert windowed_time_stats(np.zeros((3, 0)), 4, 1).shape == (3, 0, 13)
    assert windowed_time_stats(np.zeros((0, 100)), 4, 1).shape == (0, 97, 13)
    assert windowed_time_stats(np.zeros(0), 4, 1).shape == (1, 0, 13)


# (e) bad arguments ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("x", "window", "hop", "threads", "match"),
    [
        (np.zeros(100), 1, 1, 1, "window"),
        (np.zeros(100), 0, 1, 1, "window"),
        (np.zeros(100), 10, 0, 1, "hop"),
        (np.zeros(100), 10, -5, 1, "hop"),
        (np.zeros(100), 10, 5, 0, "threads"),
        (np.zeros(100), 10.0, 5, 1, "window"),
        (np.zeros(100), 10, True, 1, "hop"),
        (np.zeros((2, 2, 100)), 10, 5, 1, "1-D or 2-D"),
        (np.array(["a", "b", "c"]), 2, 1, 1, "dtype"),
        (np.zeros(100, dtype=complex), 10, 5, 1, "dtype"),
    ],
)
def test_bad_arguments(x, window, hop, threads, match):
    with pytest.raises(ValueError, match=match):
        windowed_time_stats(x, window, hop, threads=threads)


def test_bad_thread_env(monkeypatch):
    monkeypatch.setenv("PLANTML_THREADS", "zero")
    with pytest.raises(ValueError, match="PLANTML_THREADS"):
        windowed_time_stats(np.zeros(100), 10, 5)
    monkeypatch.setenv("PLANTML_THREADS", "1")
    assert windowed_time_stats(np.zeros(100), 10, 5).shape == (1, 19, 13)


def test_kernel_rejects_bad_arguments_directly():
    x = np.zeros((1, 100))
    with pytest.raises(ValueError):
        _timestats.time_stats(x, 1, 1, 1)
    with pytest.raises(ValueError):
        _timestats.time_stats(x, 10, 0, 1)
    with pytest.raises(ValueError):
        _timestats.time_stats(x, 10, 1, 0)
    with pytest.raises(ValueError):  # typed memoryview refuses non-contiguous input
        _timestats.time_stats(np.zeros((2, 100))[:, ::2], 10, 1, 1)


# (f) no copy of a C-contiguous float64 input ----------------------------------


def test_no_input_copy():
    # NumPy reports its buffers to tracemalloc, so a copy of this 64 MB input
    # would show up in the peak; the output is only ~0.4 MB.
    x = np.random.default_rng(5).standard_normal((8, 1_000_000))
    window = hop = 2048
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        out = windowed_time_stats(x, window, hop, threads=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    extra = peak - base
    assert out.nbytes <= extra < out.nbytes + x.nbytes // 8, (extra, out.nbytes, x.nbytes)
