"""The compiled spectral/envelope kernel against its NumPy reference, and its definitions."""

import dataclasses
import importlib.machinery
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from app.features import _spectral
from app.features.spec import FeatureSpec
from app.features.spectral import kernel_args, spectral_names, windowed_spectral
from app.features.spectral_reference import reference_spectral
from tests.conftest import CWRU


def reference(x, spec):
    return reference_spectral(x, spec.window, spec.hop, **kernel_args(spec))


def assert_parity(got, ref, n_bands=8):
    """1e-9 relative per column.

    FFT rounding errors are relative to the window's total power, not to one
    band's, so a band holding almost nothing (the DC bin after the mean is
    removed) is compared with an atol scaled to the largest band of its group.
    """
    assert got.shape == ref.shape and got.dtype == np.float64
    if ref.size == 0:
        return
    groups = [slice(0, 1), slice(1, 2), slice(2, 2 + n_bands), slice(2 + n_bands, None)]
    for group in groups:
        block = ref[..., group]
        if block.size == 0:
            continue
        atol = 1e-13 * float(np.abs(block).max())
        np.testing.assert_allclose(got[..., group], block, rtol=1e-9, atol=atol,
                                   err_msg=f"columns {group}")


def make_spec(fs=12000.0, window=1024, hop=512, **kw):
    return dataclasses.replace(FeatureSpec.default_v1(fs, window=window, hop=hop), **kw)


def n_bands(spec):
    return len(spec.bands)


def test_compiled_extension_is_imported():
    path = Path(_spectral.__file__)
    assert any(path.name.endswith(s) for s in importlib.machinery.EXTENSION_SUFFIXES), path
    assert _spectral.lanes() >= 2


@pytest.mark.parametrize("window_function", ["hann", "hamming", "blackman", "rectangular"])
@pytest.mark.parametrize(("n_ch", "n", "window", "hop"), [
    (1, 5000, 256, 128), (3, 20_000, 2048, 700), (2, 4096, 16, 1), (5, 3000, 1024, 4096),
    (2, 100, 128, 16),  # no window fits
])
def test_parity_random(window_function, n_ch, n, window, hop):
    rng = np.random.default_rng([n_ch, n, window, hop])
    x = rng.uniform(-5, 5, (n_ch, 1)) + 10.0 ** rng.uniform(-2, 2, (n_ch, 1)) * \
        rng.standard_t(df=4, size=(n_ch, n))
    spec = make_spec(fs=float(window) * 8, window=window, hop=hop,
                     window_function=window_function)
    got = windowed_spectral(x, spec, threads=1)
    assert got.shape[-1] == len(spectral_names(spec)) == 2 + n_bands(spec) + \
        len(spec.envelope_bands)
    assert_parity(got, reference(x, spec), n_bands(spec))
    assert np.array_equal(got, windowed_spectral(x, spec, threads=2))


def test_without_envelope_and_bands():
    x = np.random.default_rng(1).standard_normal((2, 9000))
    spec = make_spec(features=("spectral_centroid", "dominant_frequency"))
    got = windowed_spectral(x, spec)
    assert got.shape == (2, 16, 2)
    assert_parity(got, reference(x, spec))
    full = windowed_spectral(x, make_spec())
    assert np.array_equal(got, full[..., :2])


def test_band_energies_sum_to_variance_for_rectangular_window():
    x = np.random.default_rng(2).standard_normal((1, 4096)) * 3 + 7
    spec = make_spec(fs=4096.0, window=4096, hop=4096, window_function="rectangular",
                     bands=((0.0, 1000.0), (1000.0, 2049.0)))
    got = windowed_spectral(x, spec)[0, 0]
    assert got[2] + got[3] == pytest.approx(x.var(), rel=1e-12)


def test_known_tone_and_modulation():
    fs, n = 12000.0, 2048
    t = np.arange(n) / fs
    carrier, mod = fs * 64 / n * 6, fs / n * 20  # both exactly on a bin: 2250 Hz, 117.2 Hz
    x = (1.0 + 0.8 * np.cos(2 * np.pi * mod * t)) * np.sin(2 * np.pi * carrier * t)
    spec = make_spec(fs=fs, window=n, hop=n, envelope_filter=(1500.0, 3000.0),
                     envelope_bands=((100.0, 130.0), (200.0, 250.0)))
    got = windowed_spectral(x, spec)[0, 0]
    assert got[1] == pytest.approx(carrier)  # dominant frequency
    assert got[0] == pytest.approx(carrier, rel=1e-3)  # centroid of a symmetric AM line
    env = got[-2:]
    assert env[0] > 100 * env[1]  # the modulation shows in the envelope spectrum
    assert_parity(got[None, None], reference(x[None], spec), n_bands=8)


@pytest.mark.parametrize("value", [0.0, 1e-3, -42.0])
def test_constant_windows_are_zero(value):
    x = np.full((2, 3000), value)
    spec = make_spec()
    got = windowed_spectral(x, spec)
    assert not got.any()
    assert_parity(got, reference(x, spec))


def test_layouts_and_read_only_input():
    base = np.random.default_rng(3).standard_normal((3, 5000))
    spec = make_spec()
    ref = reference(base, spec)
    ro = base.copy()
    ro.flags.writeable = False
    for x in (np.asfortranarray(base), base.astype(np.float32).astype(np.float64), ro):
        assert_parity(windowed_spectral(x, spec), reference(x, spec))
    assert_parity(windowed_spectral(ro, spec), ref)


def test_kernel_rejects_bad_arguments():
    x = np.zeros((1, 4096))
    args = kernel_args(make_spec())
    with pytest.raises(ValueError, match="power of two"):
        _spectral.spectral(x, 1000, 10, n_threads=1, **{**args, "win": np.ones(1000)})
    with pytest.raises(ValueError, match="hop"):
        _spectral.spectral(x, 1024, 0, n_threads=1, **args)
    with pytest.raises(ValueError, match="n_threads"):
        _spectral.spectral(x, 1024, 1, n_threads=0, **args)
    with pytest.raises(ValueError, match="window function length"):
        _spectral.spectral(x, 1024, 1, n_threads=1, **{**args, "win": np.ones(512)})
    with pytest.raises(ValueError, match="band 0 bins"):
        _spectral.spectral(x, 1024, 1, n_threads=1,
                           **{**args, "bands": np.array([[0, 999]], dtype=np.intp)})
    with pytest.raises(ValueError, match="demodulation"):
        _spectral.spectral(x, 1024, 1, n_threads=1, **{**args, "demod_lo": 0})
    with pytest.raises(ValueError):  # typed memoryview refuses non-contiguous input
        _spectral.spectral(np.zeros((2, 8192))[:, ::2], 1024, 1, n_threads=1, **args)


def test_extra_memory_is_output_plus_scratch():
    x = np.random.default_rng(5).standard_normal((4, 1_000_000))
    spec = make_spec(window=2048, hop=512)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        out = windowed_spectral(x, spec, threads=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    extra = peak - base
    assert out.nbytes <= extra <= out.nbytes + 16 * 2**20, (extra, out.nbytes)
    assert 2 * _spectral.scratch_bytes(2048) < 16 * 2**20


@pytest.mark.skipif(not CWRU.is_dir(), reason=f"CWRU recordings not found in {CWRU}")
def test_parity_cwru():
    files = sorted(CWRU.glob("*.npz"))[:4]
    spec = FeatureSpec.default_v1(12000.0, window=2048, hop=1024)
    for path in files:
        with np.load(path) as data:
            x = np.stack([data[k][:, 0] for k in sorted(data.files)])
        got = windowed_spectral(x, spec, threads=2)
        assert np.isfinite(got).all()
        assert_parity(got, reference(x, spec))
