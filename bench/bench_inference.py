"""Controller inference latency: one raw window to a prediction in onnxruntime (the runtime's
engine) against feature extraction plus scikit-learn predict in Python, timed alternately
in one process, for the 100-tree CWRU forest; and the latency the running runtime reports.

Run: python bench/bench_inference.py [--windows 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from app.devices.controller.runtime import ControllerRuntime
from app.devices.controller.sensor import ReplaySensor
from app.devices.controller.server import serve_tcp
from app.devices.flash import ControllerClient, Endpoint, flash_package
from app.features.extraction import extract_windows

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_flash import HW, build_forest


def summary(times: list[float]) -> str:
    ms = sorted(t * 1e3 for t in times)
    return (f"median {statistics.median(ms):.3f} ms, p99 {ms[int(0.99 * (len(ms) - 1))]:.3f} "
            f"ms")


def bench_engine(forest, folder: Path, n: int) -> None:
    from app.devices.controller.engine import Engine

    model = folder / "forest.onnx"
    model.write_bytes(forest.onnx_bytes)
    engine = Engine(model)
    pipe, spec = forest.trained.pipeline, forest.trained.spec
    windows = forest.windows.astype(np.float32)
    for w in windows[:10]:  # warm both paths up
        engine.predict(w)
        pipe.predict(extract_windows(w[np.newaxis].astype(np.float64), spec, threads=1))
    ort_t, py_t, agree = [], [], 0
    for i in range(n):
        w = windows[i % len(windows)]
        t0 = time.perf_counter()
        p = engine.predict(w)
        t1 = time.perf_counter()
        label = pipe.predict(extract_windows(w[np.newaxis].astype(np.float64), spec,
                                             threads=1))[0]
        t2 = time.perf_counter()
        ort_t.append(t1 - t0)
        py_t.append(t2 - t1)
        agree += int(p.prediction) == int(label)
    ratio = statistics.median(py_t) / statistics.median(ort_t)
    print(f"one window [1, 1, {spec.window}] -> label, {n} windows, alternately:")
    print(f"  onnxruntime (raw window, features in the graph): {summary(ort_t)}")
    print(f"  features + scikit-learn predict in Python:      {summary(py_t)}")
    print(f"  onnxruntime is {ratio:.1f} times faster (target >= 10); same label on "
          f"{agree}/{n} windows")


def bench_runtime(forest, folder: Path) -> None:
    data = np.concatenate([forest.windows[i, 0] for i in range(len(forest.windows))])
    sensor = ReplaySensor(data[np.newaxis], 12000.0, block=1024, speed=8.0)
    rt = ControllerRuntime(folder / "rt", HW, forest.trust, sensor=sensor)
    server = serve_tcp(rt, "127.0.0.1", 0)
    try:
        ep = Endpoint.tcp("127.0.0.1", server.port or 0)
        assert flash_package(ep, forest.packages[1], signer=forest.signer).ok
        seen: dict[int, int] = {}
        with ControllerClient.open(ep) as c:
            deadline = time.monotonic() + 20
            while len(seen) < 100 and time.monotonic() < deadline:
                live = c.live(features=False)
                seen[live.inference_count] = live.latency_us
                time.sleep(0.005)
        lat = [v / 1e6 for k, v in seen.items() if k > 0]
        print(f"runtime (replaying at 8x real time, {len(lat)} windows): latency {summary(lat)}"
              f" as published in latency_us")
    finally:
        server.stop()
        rt.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--windows", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        forest = build_forest(folder, versions=(1,))
        bench_engine(forest, folder, args.windows)
        bench_runtime(forest, folder)


if __name__ == "__main__":
    main()
