"""Types of the compiled time-statistics kernel (native/timestats.pyx)."""

import numpy as np
from numpy.typing import ArrayLike

def n_features() -> int: ...
def time_stats(x: ArrayLike, window: int, hop: int, n_threads: int) -> np.ndarray: ...
