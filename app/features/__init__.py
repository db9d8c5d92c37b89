"""Feature extraction: windowed time-domain statistics (compiled kernel + NumPy reference)."""

from app.features.timestats import FEATURE_NAMES, windowed_time_stats

__all__ = ["FEATURE_NAMES", "windowed_time_stats"]
