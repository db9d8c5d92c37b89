"""One-window latency, raw samples to prediction: onnxruntime vs native features + sklearn.

DESIGN.md section 5 (controller inference): onnxruntime at least 10 times faster
than features plus scikit-learn predict in Python.  Trains each classifier on
CWRU drive-end (or synthetic data), exports it, then times both paths on the
same single windows, alternating, median of N rounds.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.features.extraction import extract_windows  # noqa: E402
from app.features.spec import FeatureSpec  # noqa: E402
from app.ml import MODELS, Recipe, export_onnx, train  # noqa: E402
from app.ml.checks import session  # noqa: E402
from app.ml.dataset import Recording, window_set  # noqa: E402

CWRU_DIR = REPO.parent / "shared" / "data" / "cwru"


def recordings(synthetic: bool) -> tuple[list[Recording], str]:
    files = [] if synthetic else sorted(CWRU_DIR.glob("*.npz"))
    if files:
        recs = []
        for path in files:
            with np.load(path) as data:
                recs.append(Recording(path.stem, data["DE"][:, 0][None, :].copy(),
                                      path.stem.split("_", 1)[1]))
        return recs, "CWRU DE"
    rng = np.random.default_rng(0)
    recs = [Recording(f"r{k}", (1 + k) * rng.standard_normal((1, 120_000)), f"c{k % 3}")
            for k in range(6)]
    return recs, "synthetic"



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=50, help="calls per timed sample")
    parser.add_argument("--synthetic", action="store_true")
    parser.add_argument("--models", default=",".join(MODELS["classification"]))
    args = parser.parse_args()

    recs, source = recordings(args.synthetic)
    spec = FeatureSpec.default(12000.0, channels=("DE",), window=2048, hop=512)
    data = window_set(recs, spec)
    print(f"data: {source}, {len(data)} windows of {spec.window}; one window per call, "
          f"{args.calls} calls per sample, median of {args.rounds} rounds, alternating; "
          f"onnxruntime session with 1 thread, features with 1 thread")
    print(f"\n{'model':<22}{'python us':>11}{'onnx us':>10}{'ratio':>8}  (target >= 10)")
    for model in args.models.split(","):
        trained = train(data, Recipe(model=model))
        sess = session(export_onnx(trained).onnx_bytes)
        pick = trained.test_idx[:: max(1, len(trained.test_idx) // args.rounds)]
        raw = [data.raw([i]) for i in pick[:args.rounds]]
        raw32 = [w.astype(np.float32) for w in raw]

        def python_path(w: np.ndarray, trained=trained) -> object:
            return trained.pipeline.predict(extract_windows(w, spec, threads=1))

        def onnx_path(w: np.ndarray, sess=sess) -> object:
            return sess.run(None, {"window": w})

        samples: dict[str, list[float]] = {"python": [], "onnx": []}
        python_path(raw[0])
        onnx_path(raw32[0])
        for k in range(args.rounds):
            for name, fn, w in (("python", python_path, raw[k]), ("onnx", onnx_path, raw32[k])):
                start = time.perf_counter()
                for _ in range(args.calls):
                    fn(w)
                samples[name].append((time.perf_counter() - start) / args.calls * 1e6)
        py, ox = statistics.median(samples["python"]), statistics.median(samples["onnx"])
        print(f"{model:<22}{py:>11.1f}{ox:>10.1f}{py / ox:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
