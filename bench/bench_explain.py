"""Explanation time for one window: TreeSHAP over the default forest against the features and
predict call it explains, and the check that the contributions add up to the model's score.

Trains the default recipe (random forest) on CWRU drive end (or synthetic data with
--synthetic), then for single held-out windows times, alternating, median of N rounds:
  predict  native features + pipeline.predict_proba (what is explained)
  explain  the same features + app.ml.explain (TreeSHAP through shap)
and reports the ratio explain / predict, plus the largest |base + sum - score| seen.
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
from app.ml import Recipe, train  # noqa: E402
from app.ml.dataset import window_set  # noqa: E402
from app.ml.explain import explain  # noqa: E402
from bench.bench_latency import recordings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--windows", type=int, default=20, help="windows checked for the sum")
    parser.add_argument("--synthetic", action="store_true")
    args = parser.parse_args()

    recs, source = recordings(args.synthetic)
    spec = FeatureSpec.default(12000.0, channels=("DE",), window=2048, hop=1024)
    data = window_set(recs, spec)
    trained = train(data, Recipe())
    names = spec.feature_names()
    classes = trained.classes
    pick = trained.test_idx[:: max(1, len(trained.test_idx) // args.windows)][:args.windows]
    worst = 0.0
    for i in pick:
        e = explain(trained.pipeline, extract_windows(data.raw([i]), spec, threads=1)[0],
                    names, classes)
        worst = max(worst, e.gap)

    def predict(w: np.ndarray) -> object:
        return trained.pipeline.predict_proba(extract_windows(w, spec, threads=1))

    def explained(w: np.ndarray) -> object:
        return explain(trained.pipeline, extract_windows(w, spec, threads=1)[0], names, classes)

    raw = [data.raw([i]) for i in pick[:args.rounds]]
    explained(raw[0])  # shap's first call compiles its tree walker
    times: dict[str, list[float]] = {"predict": [], "explain": []}
    for w in raw:
        for name, fn in (("predict", predict), ("explain", explained)):
            start = time.perf_counter()
            fn(w)
            times[name].append(time.perf_counter() - start)
    p, e = statistics.median(times["predict"]), statistics.median(times["explain"])
    print(f"data: {source}, default recipe ({trained.recipe.model}, "
          f"{trained.pipeline.named_steps['model'].n_estimators} trees, {len(names)} features, "
          f"{len(classes)} classes); one window, median of {len(raw)} rounds")
    print(f"predict {p * 1e3:8.2f} ms   explain {e * 1e3:8.2f} ms   ratio {e / p:5.1f}x")
    print(f"largest |base + sum(contributions) - probability| over {len(pick)} windows: "
          f"{worst:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
