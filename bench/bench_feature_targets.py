"""Feature-speed targets of DESIGN.md section 5, timed alternately in one process (issues 4, 9).

The default feature set (version 2, with the squared envelope spectrum and the CWRU drive
end bearing's defect lines) from the native kernel vs its block-vectorised NumPy
reference and a bare numpy.fft.rfft pass over the same windows; 2 threads vs 1, on an
idle machine and with the other core kept busy; extra memory vs output size.  Also the
version 1 kernels (time statistics vs NumPy and tsfresh, spectral, envelope), kept for
models trained before version 2.  Median of N rounds.
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

from app.features import condition  # noqa: E402
from app.features.condition_reference import reference_raw  # noqa: E402
from app.features.extraction import extract  # noqa: E402
from app.features.kinematics import Kinematics  # noqa: E402
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
    kin = Kinematics.resolve(rpm=1797.0, channels=("ch0",), bearing="SKF 6205-2RS JEM")
    default = FeatureSpec.default(12000.0, window=w, hop=hop, kinematics=kin)
    windows = sliding_window_view(x, w, axis=-1)[:, ::hop]
    n_win = windows.shape[0] * windows.shape[1]
    speed = np.full(n_win, kin.shaft_hz)
    lines = np.repeat(condition.line_table(default), len(x), axis=0)
    print(f"data: {source}; {n_win} windows of {w}, hop {hop}; cpu_count {os.cpu_count()}; "
          f"kernel {condition.KERNEL.__name__} ({condition.KERNEL.vector_width()} doubles per "
          f"vector); median of {args.rounds} rounds, methods alternating")
    print(f"default features ({default.n_features} per channel): {', '.join(default.features)};"
          f" envelope band {default.envelope_filter[0]:g}..{default.envelope_filter[1]:g} Hz, "
          f"baseband M = {default.baseband_length()}")

    def native(threads: int) -> np.ndarray:
        return condition.assemble(condition.raw_columns(x, default, speed, lines, threads),
                                  default)

    def numpy_reference() -> np.ndarray:
        return condition.assemble(reference_raw(x, default, speed, lines), default)

    # 1. the default feature set: native vs NumPy reference vs a bare rfft pass
    med = timed({
        "native default, 1 thread": lambda: native(1),
        "native default, 2 threads": lambda: native(2),
        "numpy reference default": numpy_reference,
        "bare numpy rfft": lambda: np.fft.rfft(windows, axis=-1),
    }, args.rounds, args.target)
    report("default features (version 2, with the envelope and the defect lines)", med, n_win)
    d1, d2 = med["native default, 1 thread"], med["native default, 2 threads"]
    rfft = med["bare numpy rfft"]
    targets = [("default 1T vs bare rfft", rfft / d1, 0.6),
               ("default 1T vs NumPy", med["numpy reference default"] / d1, 2.0),
               ("default 2 threads vs 1", d1 / d2, 1.5)]

    # 2. version 1: time domain native vs NumPy reference and tsfresh; spectral kernels
    spec = FeatureSpec.default_v1(12000.0, window=w, hop=hop)
    spectral_only = FeatureSpec.from_dict({**spec.to_dict(), "features": [
        "spectral_centroid", "dominant_frequency", "band_energy"]})
    med = timed({
        "native time, 1 thread": lambda: windowed_time_stats(x, w, hop, threads=1),
        "native time, 2 threads": lambda: windowed_time_stats(x, w, hop, threads=2),
        "numpy reference time": lambda: reference_time_stats(x, w, hop),
    }, args.rounds, args.target)
    report("version 1 time-domain features (13)", med, n_win)
    t1, t2 = med["native time, 1 thread"], med["native time, 2 threads"]
    targets += [("v1 time 1T vs NumPy", med["numpy reference time"] / t1, 2.0),
                ("v1 time 2 threads vs 1", t1 / t2, 1.5)]
    few = np.ascontiguousarray(windows.reshape(-1, w)[:args.tsfresh_windows])
    ts = tsfresh_method(few)
    if ts is not None:
        med = timed({"native time (same windows)": lambda: windowed_time_stats(
            few, w, w, threads=1), "tsfresh (10 of the 13)": ts}, args.rounds, args.target)
        report(f"time-domain features on {len(few)} windows", med, len(few))
        targets.append(("v1 time 1T vs tsfresh", med["tsfresh (10 of the 13)"] /
                        med["native time (same windows)"], 40.0))
    ref_args, full_args = kernel_args(spectral_only), kernel_args(spec)
    med = timed({
        "native spectral, 1 thread": lambda: windowed_spectral(x, spectral_only, threads=1),
        "numpy reference spectral": lambda: reference_spectral(x, w, hop, **ref_args),
        "bare numpy rfft": lambda: np.fft.rfft(windows, axis=-1),
        "native +envelope, 1 thread": lambda: windowed_spectral(x, spec, threads=1),
        "numpy reference +envelope": lambda: reference_spectral(x, w, hop, **full_args),
    }, args.rounds, args.target)
    report("version 1 spectral features (centroid, dominant, 8 bands; then + 12 envelope "
           "bands of the magnitude envelope, L-point transforms)", med, n_win)
    rfft = med["bare numpy rfft"]
    print(f"  v1 spectral 1T vs bare rfft:  {rfft / med['native spectral, 1 thread']:.2f}x")
    print(f"  v1 +envelope 1T vs bare rfft: {rfft / med['native +envelope, 1 thread']:.2f}x "
          "(the version 2 envelope above replaces it)")

    # 3. threads while another process keeps one core busy: never slower
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        med = timed({
            "native default, 1 thread": lambda: native(1),
            "native default, 2 threads": lambda: native(2),
            "native v1 time, 1 thread": lambda: windowed_time_stats(x, w, hop, threads=1),
            "native v1 time, 2 threads": lambda: windowed_time_stats(x, w, hop, threads=2),
        }, args.rounds, args.target)
    finally:
        hog.kill()
        hog.wait()
    report("with one core kept busy by another process", med, n_win)
    targets += [("default 2T vs 1T, busy", med["native default, 1 thread"] /
                 med["native default, 2 threads"], 1.0),
                ("v1 time 2T vs 1T, busy", med["native v1 time, 1 thread"] /
                 med["native v1 time, 2 threads"], 1.0)]

    # 4. memory: extra at most the output plus 16 MB, whatever the input length
    long = np.random.default_rng(1).standard_normal((1, 16_000_000))
    print("\nextra memory (tracemalloc peak while running; input 1 x 1.6e7 float64, 128 MB)")
    one = FeatureSpec.default(12000.0, window=w, hop=hop, kinematics=kin)
    for name, fn in (("default features (extract)", lambda: extract(long, one, threads=2)[0]),
                     ("v1 time", lambda: windowed_time_stats(long, w, hop, threads=2))):
        extra, out = extra_memory(fn)
        print(f"  {name:<28} extra {extra / 2**20:8.2f} MB, output {out / 2**20:6.2f} MB, "
              f"extra - output {(extra - out) / 2**20:6.2f} MB (target <= 16)")
        targets.append((f"{name} extra - output, MB", (extra - out) / 2**20, -16.0))

    print("\ntargets (DESIGN.md section 5)")
    for name, value, target in targets:
        ok = value <= -target if target < 0 else value >= target
        bound = f"<= {-target:g}" if target < 0 else f">= {target:g}"
        print(f"  {name:<36}{value:>9.2f}  target {bound:<8} {'PASS' if ok else 'FAIL'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
