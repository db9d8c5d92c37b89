"""Feature extraction: spec, compiled time and spectral kernels, NumPy references, ONNX graph."""

from app.features import _omp  # noqa: F401  (before any kernel import)
from app.features.extraction import extract, extract_windows, n_windows, window_starts
from app.features.spec import ALL_FEATURES, SPEC_VERSION, TIME_FEATURES, FeatureSpec
from app.features.timestats import FEATURE_NAMES, windowed_time_stats

__all__ = [
    "ALL_FEATURES",
    "FEATURE_NAMES",
    "SPEC_VERSION",
    "TIME_FEATURES",
    "FeatureSpec",
    "extract",
    "extract_windows",
    "n_windows",
    "windowed_time_stats",
    "window_starts",
]
