"""The feature spec: validation with readable errors, JSON round trip, hashing, names and bins."""

import json

import numpy as np
import pytest

from app.core.errors import UsageError
from app.features.kinematics import Kinematics
from app.features.spec import ALL_FEATURES, SPEC_VERSION, TIME_FEATURES, FeatureSpec


def test_version_1_default_names_and_count():
    spec = FeatureSpec.default_v1(12000.0, channels=("DE", "FE"))
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
    spec = FeatureSpec(sample_rate=1000.0, window=1000, hop=333, features=TIME_FEATURES,
                       version=1)
    assert not spec.needs_spectrum
    assert spec.channel_feature_names() == TIME_FEATURES
    v2 = FeatureSpec(sample_rate=1000.0, window=1000, hop=333,
                     features=("skewness", "excess_kurtosis", "rms"))
    assert not v2.needs_spectrum and v2.channel_feature_names() == ("rms", "skewness",
                                                                    "excess_kurtosis")


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
        ({"version": 3}, "version 3"),
        ({"features": ("kurtosis",)}, "'kurtosis' is 'excess_kurtosis'"),
        ({"features": ("defect_lines",)}, "needs the machine's kinematics"),
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


# -- version 2 ---------------------------------------------------------------------------
CWRU_KIN = dict(rpm=1797.0, channels=("DE",), bearing="SKF 6205-2RS JEM")


def test_version_2_default_is_scale_free():
    spec = FeatureSpec.default(12000.0, channels=("DE",), window=2048, hop=512)
    assert spec.version == SPEC_VERSION == 2
    assert spec.gain_sensitive() == ()
    names = spec.channel_feature_names()
    assert names[:6] == ("skewness", "excess_kurtosis", "crest_factor", "shape_factor",
                         "impulse_factor", "spectral_centroid")
    assert "band_share_0_750Hz" in names and "env_share_0_93.75Hz" in names
    # The envelope band: centred on fs/4, fs/16 wide; its spectrum to 750 Hz in 256 points.
    assert spec.envelope_filter == (2625.0, 3375.0) and spec.baseband_length() == 256
    with_abs = FeatureSpec.default(12000.0, channels=("DE",), absolute=True)
    assert set(with_abs.gain_sensitive()) == {"mean", "std", "rms", "min", "max",
                                              "peak_to_peak", "mean_absolute_change",
                                              "band_energy", "envelope_energy"}


def test_version_2_with_kinematics_reads_the_defect_lines():
    kin = Kinematics.resolve(**CWRU_KIN)
    spec = FeatureSpec.default(12000.0, channels=("DE",), window=2048, kinematics=kin)
    names = spec.channel_feature_names()
    assert "env_bpfi_h3" in names and "env_shaft_h1" in names
    assert "order_1x_share" not in names  # only with a speed channel
    assert kin.defect_names() == ("shaft", "ftf", "bsf", "bpfo", "bpfi")
    assert dict(dict(kin.orders)["DE"]) == pytest.approx(
        {"shaft": 1.0, "ftf": 0.39828, "bsf": 4.7135 / 2, "bpfo": 3.5848, "bpfi": 5.4152},
        rel=1e-4)
    back = FeatureSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert back == spec and back.spec_hash() == spec.spec_hash()
    # Faster shafts need a wider envelope band: the default widens it.
    fast = FeatureSpec.default(12000.0, channels=("DE",), window=2048,
                               kinematics=Kinematics.resolve(**{**CWRU_KIN, "rpm": 3600.0}))
    assert fast.baseband_length() == 512
    with pytest.raises(UsageError, match="widen the envelope filter"):
        FeatureSpec.from_dict({**fast.to_dict(), "envelope_filter": spec.envelope_filter,
                               "envelope_bands": spec.envelope_bands})


def test_speed_channel_is_read_not_analysed():
    kin = Kinematics.resolve(rpm=1800.0, channels=("a", "b", "rpm"), speed_channel="rpm",
                             bearing={"a": "SKF 6205-2RS JEM", "b": "SKF 6203-2RS JEM"})
    spec = FeatureSpec.default(12000.0, channels=("a", "b", "rpm"), kinematics=kin)
    assert spec.analysed_channels() == ("a", "b")
    assert spec.n_features == 2 * len(spec.channel_feature_names())
    assert not any(n.startswith("rpm.") for n in spec.feature_names())
    with pytest.raises(UsageError, match="speed channel 'tach'"):
        FeatureSpec.default(12000.0, channels=("a",), kinematics=Kinematics.resolve(
            rpm=1800.0, channels=("a", "tach"), speed_channel="tach"))


def test_version_1_specs_keep_their_form_and_hash():
    # Hashes of the version 1 defaults as PlantML computed them before version 2 existed:
    # a model in a registry still finds its spec.
    v1 = FeatureSpec.default_v1(12000.0, channels=("DE",), window=2048, hop=1024)
    assert v1.spec_hash() == "2a608003cac9ff75d459d8424add930cc10e4e85e242c5bc716e1320230e8b78"
    assert FeatureSpec.default_v1(1000.0).spec_hash() == \
        "f9eea17a19426d46911d3ac6aef5b1b521f3829308384a15a7948304e658138e"
    d = v1.to_dict()
    assert "kinematics" not in d and d["version"] == 1
    assert FeatureSpec.from_dict(d) == v1
    with pytest.raises(UsageError, match="version 1 has no kinematics"):
        FeatureSpec.from_dict({**d, "kinematics": Kinematics.resolve(**CWRU_KIN).to_dict()})
    with pytest.raises(UsageError, match="version 7 is not supported.*newer PlantML"):
        FeatureSpec.from_dict({**d, "version": 7})
