"""Windowed spectral and envelope-spectrum features backed by the compiled ``_spectral`` kernel."""

import numpy as np

# No pure-Python fallback, like timestats: a broken build must fail at import.
from app.features import _spectral
from app.features.spec import FeatureSpec
from app.features.timestats import default_threads


def spectral_names(spec: FeatureSpec) -> tuple[str, ...]:
    """Columns the kernel returns for ``spec``: centroid, dominant, bands, envelope bands."""
    names = ["spectral_centroid", "dominant_frequency"]
    names += [f"band_{lo:g}_{hi:g}Hz" for lo, hi in spec.bands] if "band_energy" in \
        spec.features else []
    names += [f"env_band_{lo:g}_{hi:g}Hz" for lo, hi in spec.envelope_bands] if \
        spec.needs_envelope else []
    return tuple(names)


def kernel_args(spec: FeatureSpec) -> dict:
    """Keyword arguments shared by the kernel and the NumPy reference."""
    (dlo, dhi), env = spec.envelope_bins()
    return {
        "win": np.ascontiguousarray(spec.window_values()),
        "sample_rate": spec.sample_rate,
        "bands": np.ascontiguousarray(spec.band_bins()),
        "demod_lo": dlo,
        "demod_hi": dhi,
        "env_bands": np.ascontiguousarray(env),
    }


def windowed_spectral(x: np.ndarray, spec: FeatureSpec, threads: int | None = None
                      ) -> np.ndarray:
    """Return float64 (n_channels, n_windows, len(spectral_names(spec))) features.

    ``x`` is (n_channels, n_samples); a C-contiguous float64 input is read in
    place.  Windows and bins follow ``spec`` (window, hop, bands, envelope).
    """
    n_threads = default_threads() if threads is None else int(threads)
    if n_threads < 1:
        raise ValueError(f"threads must be >= 1, got {n_threads}")
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.dtype.kind not in "biuf":
        raise ValueError(f"x must be real (channels, samples), got {arr.ndim}-D {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)  # no copy when already so
    return _spectral.spectral(arr, spec.window, spec.hop, n_threads=n_threads,
                              **kernel_args(spec))
