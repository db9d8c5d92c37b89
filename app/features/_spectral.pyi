"""Types of the compiled spectral kernel (native/spectral.pyx)."""

import numpy as np
from numpy.typing import ArrayLike

def lanes() -> int: ...
def scratch_bytes(window: int) -> int: ...
def spectral(x: ArrayLike, window: int, hop: int, win: ArrayLike, sample_rate: float,
             bands: ArrayLike, demod_lo: int, demod_hi: int, env_bands: ArrayLike,
             n_threads: int) -> np.ndarray: ...
