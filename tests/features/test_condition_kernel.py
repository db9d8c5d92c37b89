"""The version 2 kernel against its NumPy reference (1e-9), its definitions and invariances."""

import dataclasses

import numpy as np
import pytest

from app.features import _condition, condition, extract, extract_windows
from app.features.condition_reference import envelope_spectrum, reference_raw
from app.features.kinematics import Kinematics
from app.features.spec import FeatureSpec
from tests.conftest import CWRU

FS = 12000.0
ALL_V2 = ("mean", "std", "rms", "min", "max", "peak_to_peak", "skewness", "excess_kurtosis",
          "crest_factor", "shape_factor", "impulse_factor", "zero_crossing_rate",
          "mean_absolute_change", "spectral_centroid", "dominant_frequency", "band_share",
          "band_energy", "order_share", "envelope_share", "envelope_energy", "defect_lines")


def full_spec(window=2048, hop=1024, channels=("DE",), speed_channel="", window_function="hann",
              rpm=1797.0):
    kin = Kinematics.resolve(rpm=rpm, channels=channels, bearing="SKF 6205-2RS JEM",
                             speed_channel=speed_channel)
    spec = FeatureSpec.default(FS, channels=channels, window=window, hop=hop, kinematics=kin)
    return dataclasses.replace(spec, features=ALL_V2, window_function=window_function)


def bearing_signal(n, rate_hz, seed=0, carrier=3000.0, noise=0.3):
    """Impacts at rate_hz ringing at the carrier, plus white noise."""
    rng = np.random.default_rng(seed)
    impacts = np.zeros(n)
    at = (np.arange(0, n / FS * rate_hz) * FS / rate_hz).astype(int)
    impacts[at[at < n]] = 4.0
    t = np.arange(80) / FS
    ring = np.exp(-t * 900) * np.sin(2 * np.pi * carrier * t)
    return np.convolve(impacts, ring)[:n] + noise * rng.standard_normal(n)


def raw_pair(x, spec, speed_hz):
    lines = np.repeat(condition.line_table(spec)[:1], len(x), axis=0)
    n_win = (x.shape[1] - spec.window) // spec.hop + 1
    speed = np.tile(speed_hz, len(x)) if np.ndim(speed_hz) else np.full(len(x) * n_win,
                                                                        speed_hz)
    return (condition.raw_columns(x, spec, speed, lines, threads=2),
            reference_raw(x, spec, speed, lines))


def assert_features_close(got, ref, spec, rtol=1e-9):
    """1e-9 relative per feature; FFT rounding is relative to the window's total power, so
    near-zero entries are compared with an atol of 1e-12 of the column's largest value."""
    assert got.shape == ref.shape
    scale = np.abs(ref).reshape(-1, ref.shape[-1]).max(axis=0)
    scale = np.maximum(scale, 1.0)  # shares and ratios are dimensionless
    bad = np.abs(got - ref) > rtol * np.abs(ref) + 1e-12 * scale
    assert not bad.any(), [spec.channel_feature_names()[j] for j in
                           np.unique(np.nonzero(bad)[-1])]


@pytest.mark.parametrize("window_function", ["hann", "hamming", "blackman", "rectangular"])
@pytest.mark.parametrize(("window", "hop", "n"), [(2048, 700, 30_000), (512, 128, 9000),
                                                  (4096, 4096, 20_000)])
def test_kernel_equals_reference(window_function, window, hop, n):
    spec = full_spec(window=window, hop=hop, window_function=window_function)
    x = np.stack([bearing_signal(n, 107.4, seed=1), bearing_signal(n, 162.0, seed=2) + 5.0])
    rng = np.random.default_rng(3)
    n_win = (n - window) // hop + 1
    speed = 1797 / 60 * (1 + 0.05 * rng.standard_normal(n_win))  # as a speed channel would
    got, ref = raw_pair(x, spec, speed)
    assert got.shape == ref.shape == (2, n_win, condition.layout(spec).n_raw)
    assert_features_close(condition.assemble(got, spec), condition.assemble(ref, spec), spec)


def test_constant_short_and_empty_inputs():
    spec = full_spec(window=256, hop=256)
    x = np.stack([np.zeros(1024), np.full(1024, 2.5), np.linspace(-1, 1, 1024)])
    got, ref = raw_pair(x, spec, 30.0)
    assert np.array_equal(got[:2, :, condition.layout(spec).col_spec:], np.zeros_like(
        got[:2, :, condition.layout(spec).col_spec:]))  # a constant window has no spectrum
    assert_features_close(condition.assemble(got, spec), condition.assemble(ref, spec), spec)
    none, _ = raw_pair(np.zeros((1, 100)), spec, 30.0)
    assert none.shape == (1, 0, condition.layout(spec).n_raw)


def test_avx2_and_sse2_builds_give_the_same_bits():
    if not _condition.cpu_has_avx2():
        pytest.skip("this CPU has no AVX2")
    from app.features import _condition_avx2

    assert (_condition.vector_width(), _condition_avx2.vector_width()) == (2, 4)
    spec = full_spec(hop=333)
    x = np.stack([bearing_signal(40_000, 107.4, seed=5)])
    n_win = (40_000 - spec.window) // spec.hop + 1
    args = dict(speed_hz=np.full(n_win, 29.95), line_mult=condition.line_table(spec),
                n_threads=1, **condition.kernel_args(spec))
    a = _condition.condition(x, spec.window, spec.hop, **args)
    b = _condition_avx2.condition(x, spec.window, spec.hop, **args)
    assert np.array_equal(a, b)


def test_threads_do_not_change_results():
    spec = full_spec(hop=256)
    x = np.stack([bearing_signal(50_000, 107.4, seed=s) for s in range(3)])
    one = extract(x[:1], dataclasses.replace(spec, channels=("DE",)), threads=1)[0]
    two = extract(x[:1], dataclasses.replace(spec, channels=("DE",)), threads=2)[0]
    assert np.array_equal(one, two)


def test_baseband_envelope_equals_the_full_length_one():
    # The squared envelope from M points equals the one from the whole window (L points).
    spec = full_spec()
    w = bearing_signal(spec.window, 107.4, seed=7)[None, :]
    win = spec.window_values()
    spectrum = np.fft.rfft((w - w.mean()) * win, axis=-1)
    (lo, hi), _ = spec.envelope_bins()
    analytic = np.zeros((1, spec.window), dtype=complex)
    analytic[:, lo:hi] = 2 * spectrum[:, lo:hi]
    se = np.abs(np.fft.ifft(analytic, axis=-1)) ** 2
    se -= se.sum() / np.square(win).sum() * np.square(win)
    full = np.abs(np.fft.rfft(se, axis=-1)) ** 2
    full[:, 1:-1] *= 2
    m = spec.baseband_length()
    fast = envelope_spectrum(spectrum, spec) * (m * m)  # undo the 1/M^2 of Pe
    # Same frequencies (bins of fs/L); |y|^2 sampled L/M times more sparsely: X scales by M/L.
    ratio = (m / spec.window) ** 2
    np.testing.assert_allclose(fast[0, : m // 2], ratio * full[0, : m // 2], rtol=1e-9,
                               atol=1e-12 * full.max())
    assert np.allclose(full[0, m // 2 + 1:], 0, atol=1e-9 * full.max())  # nothing is lost


def test_defect_line_stands_out_where_the_impacts_are():
    spec = full_spec()
    bpfo = 3.5848 * 1797 / 60
    x = bearing_signal(60_000, bpfo, seed=9)[None, :]
    feats, names = extract(x, spec)
    col = {n.split(".", 1)[1]: j for j, n in enumerate(names)}
    assert np.median(feats[:, col["env_bpfo_h1"]]) > 20
    assert np.median(feats[:, col["env_bpfo_h2"]]) > 10
    assert np.median(feats[:, col["env_bpfi_h1"]]) < 3
    healthy = extract(np.random.default_rng(1).standard_normal((1, 60_000)), spec)[0]
    assert np.median(healthy[:, col["env_bpfo_h1"]]) < 3
    shares = feats[:, [j for n, j in col.items() if n.startswith("band_share_")]]
    # The bands cover the whole spectrum but its Nyquist bin.
    assert np.allclose(shares.sum(axis=1), 1.0, atol=1e-3)


def test_scale_free_features_do_not_move_with_the_gain():
    spec = dataclasses.replace(full_spec(), features=FeatureSpec.default(
        FS, kinematics=full_spec().kinematics, channels=("DE",)).features)
    x = bearing_signal(40_000, 162.0, seed=11)[None, :]
    base = extract(x, spec)[0]
    for gain in (0.5, 2.0, 9.81, 1000.0):
        np.testing.assert_allclose(extract(gain * x, spec)[0], base, rtol=1e-9, atol=1e-12)
    absolute = dataclasses.replace(spec, features=("rms", "band_energy"))
    assert np.allclose(extract(2 * x, absolute)[0][:, 0], 2 * extract(x, absolute)[0][:, 0])


def test_order_features_follow_a_speed_channel():
    # The same machine at two speeds: the defect line moves in Hz, not in orders.
    spec = full_spec(channels=("DE", "rpm"), speed_channel="rpm", rpm=1800.0)
    cols = {n: j for j, n in enumerate(spec.feature_names())}
    found = []
    for rpm in (1200.0, 1800.0):
        x = np.stack([bearing_signal(60_000, 3.5848 * rpm / 60, seed=int(rpm)),
                      np.full(60_000, rpm)])
        feats = extract(x, spec)[0]
        found.append(np.median(feats[:, cols["DE.env_bpfo_h1"]]))
        wins = np.stack([x[:, s:s + spec.window] for s in range(0, 40_000, 4 * spec.hop)])
        np.testing.assert_allclose(extract_windows(wins, spec), feats[::4][:len(wins)],
                                   rtol=1e-12)
    assert min(found) > 20
    nominal = full_spec(rpm=1800.0)  # a nominal speed that is wrong at 1200 rpm
    x = bearing_signal(60_000, 3.5848 * 1200 / 60, seed=3)[None, :]
    assert np.median(extract(x, nominal)[0][:, nominal.feature_names().index(
        "DE.env_bpfo_h1")]) < 5


def test_scratch_is_small():
    # extract's bounded extra memory is tested in test_extract (the default is version 2).
    spec = full_spec(window=2048, hop=1024)
    assert 2 * _condition.scratch_bytes(2048, spec.baseband_length()) < 2**20


@pytest.mark.skipif(not CWRU.is_dir(), reason=f"CWRU recordings not found in {CWRU}")
def test_parity_cwru():
    spec = full_spec(hop=1024)
    for path in sorted(CWRU.glob("*.npz"))[:4]:
        with np.load(path) as data:
            x = np.ascontiguousarray(np.stack([data["DE"][:, 0]]))
        got, ref = raw_pair(x, spec, 1797 / 60)
        assert np.isfinite(got).all()
        assert_features_close(condition.assemble(got, spec), condition.assemble(ref, spec),
                              spec)
