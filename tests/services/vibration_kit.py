"""Small real datasets for service and CLI tests: synthetic machine vibration, labelled."""

from __future__ import annotations

import json

import numpy as np

from app.core.records import ChannelInfo
from app.core.roles import Action
from app.data.synthetic import vibration
from app.services.datasets import RecordingInput
from tests.services.release_kit import artifacts

RATE = 12_000.0
WINDOW = 1024  # the tests train with hop = window: windows do not overlap
ACC = ChannelInfo("acc", "g", "100 mV/g")


def two_states(services, who, *, seconds: float = 3.0, per_state: int = 2,
               name: str = "two states"):
    """Healthy and bearing-fault recordings, labelled per recording."""
    n = int(seconds * RATE)
    recs = [RecordingInput(name=f"{state}-{r}", data=vibration(state, n, seed=10 * k + r)[None],
                           label=state)
            for k, state in enumerate(("healthy", "bearing_fault")) for r in range(per_state)]
    return services.datasets.create_from_arrays(
        who, action=Action.DATA_IMPORT, name=name, channels=[ACC], sample_rate=RATE,
        provenance={"source": "test"}, recordings=recs)


def with_bad_windows(services, who):
    """One healthy and one faulty recording of 10 windows each; in the healthy one window 0
    is a dead sensor (zeros) and window 4 holds one NaN sample."""
    n = 10 * WINDOW
    healthy = vibration("healthy", n, seed=99)
    healthy[:WINDOW] = 0.0
    healthy[4 * WINDOW + 17] = np.nan
    recs = [RecordingInput(name="healthy-bad", data=healthy[None], label="healthy"),
            RecordingInput(name="fault", data=vibration("bearing_fault", n, seed=98)[None],
                           label="bearing_fault")]
    return services.datasets.create_from_arrays(
        who, action=Action.DATA_IMPORT, name="with a dead and a NaN window", channels=[ACC],
        sample_rate=RATE, provenance={"source": "test"}, recordings=recs)


NOT_ROBUST_REPORT = {
    "version": 2, "task": "classification", "model": "mean", "n_train": 70, "n_test": 30,
    "n_excluded": 0, "metrics": {"accuracy": 0.995},
    "inputs": {"acc": {"unit": "g", "scale": "100 mV/g"}},
    "envelope": {"channels": {"acc": {"level_min": 0.05, "level_max": 0.4}},
                 "conditions": ["load=0hp", "load=2hp"]},
    "robustness": {
        "metric": "accuracy", "baseline": 0.99, "max_drop": 0.05, "robust": False,
        "reasons": ["gain x0.5: 61.00% against 99.00% held out"],
        "rows": [{"name": "as recorded", "n": 30, "score": 0.99, "invalid_share": 0.0,
                  "expect": "valid", "passed": True, "reasons": ""},
                 {"name": "gain x0.5", "n": 30, "score": 0.61, "invalid_share": 0.0,
                  "expect": "valid", "passed": False, "reasons": ""},
                 {"name": "dead sensor (zeros)", "n": 30, "score": 0.0, "invalid_share": 1.0,
                  "expect": "invalid", "passed": True,
                  "reasons": "flat line (dead or disconnected sensor)"}],
        "conditions": [{"condition": "load=0hp", "n_train": 40, "n_test": 30, "score": 0.97,
                        "invalid_share": 0.0, "passed": True},
                       {"condition": "load=2hp", "n_train": 30, "n_test": 40, "score": 0.96,
                        "invalid_share": 0.0, "passed": True}],
        "condition_baseline": 0.99}}


def register_not_robust(services, who, line: str = "pump-7"):
    """A version whose stored validation report flags it NOT ROBUST."""
    arts = dict(artifacts(), **{"validation_report.json":
                                json.dumps(NOT_ROBUST_REPORT).encode()})
    return services.registry.register(
        who, line=line, kind="classifier", dataset_id="d" * 64,
        feature_spec={"window": 8, "hop": 8}, recipe={"model": "mean"},
        metrics={"accuracy": 0.995}, lineage={"sklearn": "1.9"}, artifacts=arts,
        parity_passed=True)
