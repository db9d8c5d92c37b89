"""Feature-speed targets of DESIGN.md section 5, timed alternately in one process (issue 4).

native time-domain kernel vs the block-vectorised NumPy reference and tsfresh;
native spectral kernel vs its NumPy reference and a bare rfft pass over the same
windows; 2 threads vs 1; extra memory vs output size.  Median of N rounds.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # works from a checkout even without `pip install -e .`

from app.features.reference import reference_time_stats  # noqa: E402
from app.features.spec import FeatureSpec  # noqa: E402
from app.features.spectral import kernel_args, windowed_spectral  # noqa: E402
from app.features.spectral_reference import reference_spectral  # noqa: E402
from app.features.timestats import windowed_time_stats  # noqa: E402

CWRU_DIR = REPO.parent / "shared" / "data" / "cwru"
# tsfresh has no crest, shape or impulse factor: it computes 10 of the 13.
TSFRESH_FC = {"mean": None, "standard_deviation": None, "root_mean_square": None,
              "minimum": None, "maximum": None, "absolute_maximum": None, "skewness": None,
              "kurtosis": None, "number_crossing_m": [{"m": 0}], "mean_abs_change": None}


def load(synthetic: bool) -> tuple[np.ndarray, str]:
    files = [] if synthetic else sorted(CWRU_DIR.glob("*.npz"))
    if not files:
        x = np.random.default_rng(0).standard_normal((10, 121_265))
        return x, "synthetic 10 x 121265"
    rows = []
    for path in files:
        with np.load(path) as data:
            rows.append(data["DE"][:, 0])
    n = min(len(r) for r in rows)
    return np.ascontiguousarray(np.stack([r[:n] for r in rows])), f"CWRU DE, 10 x {n}"


def timed(methods: dict[str, Callable[[], object]], rounds: int, target: float
          ) -> dict[str, float]:
    """Median seconds per call; methods alternate within every round."""
    reps = {}
    for name, fn in methods.items():
        start = time.perf_counter()
        fn()
        reps[name] = max(1, round(target / max(time.perf_counter() - start, 1e-9)))
    samples: dict[str, list[float]] = {name: [] for name in methods}
    for _ in range(rounds):
        for name, fn in methods.items():
            start = time.perf_counter()
            for _ in range(reps[name]):
                fn()
            samples[name].append((time.perf_counter() - start) / reps[name])
    return {name: statistics.median(s) for name, s in samples.items()}


def extra_memory(fn: Callable[[], np.ndarray]) -> tuple[int, int]:
    """(peak extra bytes traced while fn runs, bytes of its output)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        out = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak - base, out.nbytes


def tsfresh_method(windows: np.ndarray) -> Callable[[], object] | None:
    try:
        import pandas as pd
        from tsfresh import extract_features
    except ImportError:
        print("tsfresh not installed: skipping the tsfresh comparison "
              "(pip install tsfresh to run it)")
        return None
    n, length = windows.shape
    frame = pd.DataFrame({"id": np.repeat(np.arange(n), length),
                          "time": np.tile(np.arange(length), n), "value": windows.ravel()})
    return lambda: extract_features(frame, column_id="id", column_sort="time",
                                    default_fc_parameters=TSFRESH_FC, n_jobs=0,
                                    disable_progressbar=True)


def report(title: str, med: dict[str, float], n_windows: int) -> None:
    print(f"\n{title}")
    for name, t in med.items():
        print(f"  {name:<28}{t * 1e3:>10.3f} ms {t / n_windows * 1e6:>9.2f} us/window")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--window", type=int, default=2048)
    parser.add_argument("--hop", type=int, default=1024)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--target", type=float, default=0.2, help="seconds per timed sample")
    parser.add_argument("--tsfresh-windows", type=int, default=64)
    parser.add_argument("--synthetic", action="store_true")
    args = parser.parse_args()

    x, source = load(args.synthetic)
    w, hop = args.window, args.hop
    spec = FeatureSpec.default(12000.0, window=w, hop=hop)
    spectral_only = FeatureSpec.from_dict({**spec.to_dict(), "features": [
        "spectral_centroid", "dominant_frequency", "band_energy"]})
    windows = sliding_window_view(x, w, axis=-1)[:, ::hop]
    n_win = windows.shape[0] * windows.shape[1]
    print(f"data: {source}; {n_win} windows of {w}, hop {hop}; cpu_count {os.cpu_count()}; "
          f"median of {args.rounds} rounds, methods alternating")

    # 1. time domain: native vs NumPy reference
    med = timed({
        "native time, 1 thread": lambda: windowed_time_stats(x, w, hop, threads=1),
        "native time, 2 threads": lambda: windowed_time_stats(x, w, hop, threads=2),
        "numpy reference time": lambda: reference_time_stats(x, w, hop),
    }, args.rounds, args.target)
    report("time-domain features (13)", med, n_win)
    t1, t2 = med["native time, 1 thread"], med["native time, 2 threads"]
    print(f"  native 1T vs NumPy: {med['numpy reference time'] / t1:.2f}x (target >= 2)")
    print(f"  2 threads vs 1:     {t1 / t2:.2f}x (target >= 1.5)")

    # 2. time domain: native vs tsfresh on the same few windows
    few = np.ascontiguousarray(windows.reshape(-1, w)[:args.tsfresh_windows])
    ts = tsfresh_method(few)
    if ts is not None:
        med = timed({"native time (same windows)": lambda: windowed_time_stats(
            few, w, w, threads=1), "tsfresh (10 of the 13)": ts}, args.rounds, args.target)
        report(f"time-domain features on {len(few)} windows", med, len(few))
        ratio = med["tsfresh (10 of the 13)"] / med["native time (same windows)"]
        print(f"  native 1T vs tsfresh: {ratio:.0f}x (target >= 40)")

    # 3. spectral: native vs NumPy reference vs a bare rfft pass
    ref_args = kernel_args(spectral_only)
    full_args = kernel_args(spec)
    med = timed({
        "native spectral, 1 thread": lambda: windowed_spectral(x, spectral_only, threads=1),
        "native spectral, 2 threads": lambda: windowed_spectral(x, spectral_only, threads=2),
        "numpy reference spectral": lambda: reference_spectral(x, w, hop, **ref_args),
        "bare numpy rfft": lambda: np.fft.rfft(windows, axis=-1),
        "native +envelope, 1 thread": lambda: windowed_spectral(x, spec, threads=1),
        "native +envelope, 2 threads": lambda: windowed_spectral(x, spec, threads=2),
        "numpy reference +envelope": lambda: reference_spectral(x, w, hop, **full_args),
    }, args.rounds, args.target)
    report("spectral features (centroid, dominant, 8 bands; then + 12 envelope bands)", med,
           n_win)
    s1, s2 = med["native spectral, 1 thread"], med["native spectral, 2 threads"]
    e1, e2 = med["native +envelope, 1 thread"], med["native +envelope, 2 threads"]
    rfft = med["bare numpy rfft"]
    print(f"  spectral 1T vs bare rfft:  {rfft / s1:.2f}x the speed (target >= 0.6)")
    print(f"  spectral 1T vs NumPy:      {med['numpy reference spectral'] / s1:.2f}x")
    print(f"  spectral 2 threads vs 1:   {s1 / s2:.2f}x (target >= 1.5)")
    print(f"  +envelope 1T vs bare rfft: {rfft / e1:.2f}x the speed (3 transforms more)")
    print(f"  +envelope 1T vs NumPy:     {med['numpy reference +envelope'] / e1:.2f}x")
    print(f"  +envelope 2 threads vs 1:  {e1 / e2:.2f}x")

    # 4. threads while another process keeps one core busy: never slower
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        med = timed({
            "native time, 1 thread": lambda: windowed_time_stats(x, w, hop, threads=1),
            "native time, 2 threads": lambda: windowed_time_stats(x, w, hop, threads=2),
            "native spectral, 1 thread": lambda: windowed_spectral(x, spectral_only,
                                                                   threads=1),
            "native spectral, 2 threads": lambda: windowed_spectral(x, spectral_only,
                                                                    threads=2),
        }, args.rounds, args.target)
    finally:
        hog.kill()
        hog.wait()
    report("with one core kept busy by another process", med, n_win)
    for kind in ("time", "spectral"):
        ratio = med[f"native {kind}, 1 thread"] / med[f"native {kind}, 2 threads"]
        print(f"  {kind} 2 threads vs 1: {ratio:.2f}x (target >= 1: never slower)")

    # 5. memory: extra at most the output plus 16 MB, whatever the input length
    long = np.random.default_rng(1).standard_normal((4, 4_000_000))
    print("\nextra memory (tracemalloc peak while running; input 4 x 4e6 float64, 128 MB)")
    for name, fn in (("native time", lambda: windowed_time_stats(long, w, hop, threads=2)),
                     ("native spectral+envelope", lambda: windowed_spectral(long, spec,
                                                                              threads=2))):
        extra, out = extra_memory(fn)
        print(f"  {name:<26} extra {extra / 2**20:8.2f} MB, output {out / 2**20:6.2f} MB, "
              f"extra - output {(extra - out) / 2**20:6.2f} MB (target <= 16)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
