"""Benchmark the compiled time-stats kernel against NumPy (reference and a bare rfft pass)."""

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

REPO = Path(__file__).resolve().parents[1]
CWRU_DIR = REPO.parent / "shared" / "data" / "cwru"
sys.path.insert(0, str(REPO))  # works from a checkout even without `pip install -e .`

from app.features.reference import reference_time_stats  # noqa: E402
from app.features.timestats import native_module_path, windowed_time_stats  # noqa: E402


def load_signals(synthetic: bool) -> tuple[np.ndarray, str]:
    """Return (n_channels, n_samples) float64 and a description of where it came from."""
    files = [] if synthetic else sorted(CWRU_DIR.glob("*.npz"))
    if not files:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((28, 121_265)) + 0.01 * np.arange(121_265) / 121_265
        return x, "synthetic (28 x 121265 gaussian + drift)"
    channels = []
    for path in files:
        with np.load(path) as data:  # keys DE/FE/BA, each (n, 1)
            channels.extend(data[key][:, 0] for key in sorted(data.files))
    n = min(len(c) for c in channels)  # recordings differ in length; trim to stack
    x = np.ascontiguousarray(np.stack([c[:n] for c in channels]))
    return x, f"CWRU {CWRU_DIR} ({len(files)} files, {x.shape[0]} x {n})"


def calibrate(fn: Callable[[], object], target_s: float) -> int:
    """Calls per timed sample so that one sample lasts about target_s (also warms up)."""
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    return max(1, math.ceil(target_s / max(elapsed, 1e-9)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--window", type=int, default=2048)
    parser.add_argument("--hop", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.2, help="seconds per timed sample")
    parser.add_argument("--synthetic", action="store_true", help="ignore CWRU data")
    args = parser.parse_args()

    x, source = load_signals(args.synthetic)
    windows = sliding_window_view(x, args.window, axis=-1)[:, :: args.hop]
    n_windows = windows.shape[0] * windows.shape[1]

    methods: dict[str, Callable[[], object]] = {
        "native, 1 thread": lambda: windowed_time_stats(x, args.window, args.hop, threads=1),
        "native, 2 threads": lambda: windowed_time_stats(x, args.window, args.hop, threads=2),
        "numpy reference": lambda: reference_time_stats(x, args.window, args.hop),
        "numpy rfft only": lambda: np.fft.rfft(windows, axis=-1),
    }
    reps = {name: calibrate(fn, args.target) for name, fn in methods.items()}
    samples: dict[str, list[float]] = {name: [] for name in methods}
    # Alternate methods within each round so drift (turbo, other load) hits all alike.
    for _ in range(args.rounds):
        for name, fn in methods.items():
            start = time.perf_counter()
            for _ in range(reps[name]):
                fn()
            samples[name].append((time.perf_counter() - start) / reps[name])
    median = {name: statistics.median(s) for name, s in samples.items()}

    print(f"data:    {source}")
    print(f"kernel:  {native_module_path()}")
    print(
        f"windows: {n_windows} (window {args.window}, hop {args.hop}); "
        f"median of {args.rounds} rounds; cpu_count {os.cpu_count()}"
    )
    print()
    print(f"{'method':<20}{'ms/pass':>10}{'Mwin-samples/s':>16}")
    for name, t in median.items():
        rate = n_windows * args.window / t / 1e6
        print(f"{name:<20}{t * 1e3:>10.2f}{rate:>16.1f}")
    print()
    n1, n2 = median["native, 1 thread"], median["native, 2 threads"]
    print(f"native 1T vs numpy reference: {median['numpy reference'] / n1:6.2f}x faster")
    print(f"native 2T vs numpy reference: {median['numpy reference'] / n2:6.2f}x faster")
    print(f"native 1T vs numpy rfft:      {median['numpy rfft only'] / n1:6.2f}x faster")
    print(f"native 2T vs 1T:              {n1 / n2:6.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
